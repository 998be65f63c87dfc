"""Build ``services/enrich/data/taxonomy.json`` from the IPTC Media Topics export.

Usage::

    python scripts/build_taxonomy.py ../shared/taxonomy/iptc-mediatopic.json \
        [--output services/enrich/data/taxonomy.json] [--release 2025-10-09]

The output carries, for the 17 top-level Media Topics and the active second-level
ones, only the QCode, the English label, its slug and the ``broader`` link. IPTC's
definition texts are not copied. Each top-level topic gets the hand-written
newsflow lexicon below as its ``terms``; each second-level topic gets its own label
as its only term. Matching rules (case, plurals, phrases) live in
``services/enrich/topics.py``.

IPTC Media Topics are CC BY 4.0: "IPTC, International Press Telecommunications
Council - https://iptc.org". The lexicon is newsflow's own work.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

NAME = "iptc-mediatopic"
LEXICON_VERSION = "newsflow.1"
DEFAULT_RELEASE = "2025-10-09"
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "services/enrich/data/taxonomy.json"
ATTRIBUTION = (
    "Topic codes, labels and hierarchy: IPTC Media Topics NewsCodes "
    "(http://cv.iptc.org/newscodes/mediatopic/), IPTC, International Press "
    "Telecommunications Council - https://iptc.org, licensed CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/); definitions omitted. "
    "Topic terms: newsflow."
)
LICENSE = "CC-BY-4.0"
MIN_TERMS, MAX_TERMS = 40, 120

# Hand-written English news lexicon per top-level topic. Lower case; a term may
# be a phrase. Matching tolerates plurals and -ed/-ing forms, and a longer phrase
# wins over the words inside it ("drone strike" is conflict, not a labour
# "strike"), so ambiguous words appear here only inside phrases.
LEXICON: dict[str, str] = {
    # arts, culture, entertainment and media
    "medtop:01000000": """
        art; artist; artwork; painting; painter; sculpture; sculptor; museum; gallery;
        exhibition; film; movie; cinema; filmmaker; film director; actor; actress;
        box office; hollywood; bollywood; oscar; academy award; golden globe; bafta;
        cannes film festival; film festival; premiere; documentary; sequel; music;
        musician; album; song; singer; songwriter; rapper; concert; band; orchestra;
        symphony; opera; ballet; theatre; theater; broadway; playwright; stage show;
        musical; comedy; comedian; novel; novelist; author of; poet; poetry; literature;
        literary; bestseller; publisher; publishing; book prize; grammy; emmy;
        television; tv series; tv show; sitcom; streaming service; netflix; video game;
        journalism; journalist; newspaper; broadcaster; broadcasting; magazine;
        press freedom; media; heritage; cultural; culture; festival; entertainment;
        celebrity news; pop star; rock band; hip-hop; soundtrack; fashion week;
        art fair; auction house; unesco world heritage
    """,
    # crime, law and justice
    "medtop:02000000": """
        crime; criminal; police; police officer; policeman; detective; arrest; suspect;
        murder; homicide; manslaughter; robbery; burglary; theft; stolen; fraud; scam;
        embezzlement; bribery; corruption; money laundering; smuggling; trafficking;
        drug trafficking; human trafficking; cartel; gang; gangster; mafia; kidnapping;
        abduction; assault; stabbing; shot dead; mass shooting; gunman; rape;
        sexual abuse; domestic violence; cybercrime; hacking charges; charged with;
        criminal charges; indictment; indicted; prosecutor; prosecution; prosecuted;
        defendant; defence lawyer; lawyer; attorney; judge; jury; trial; retrial;
        verdict; guilty; pleaded guilty; not guilty; acquitted; convicted; conviction;
        sentenced to; jail; prison; prisoner; inmate; parole; bail; custody;
        death penalty; execution; supreme court; high court; appeals court;
        court of appeal; district court; federal court; court ruling; court hearing;
        courtroom; lawsuit; sued; litigation; law enforcement; fbi; scotland yard;
        interpol; forensic; extradition; extradited; crime scene; law; legal; justice;
        justice ministry; attorney general; investigation into; investigators
    """,
    # disaster, accident and emergency incident
    "medtop:03000000": """
        disaster; natural disaster; catastrophe; earthquake; quake; tremor; aftershock;
        magnitude; epicentre; epicenter; richter scale; tsunami; flood; flash flood;
        landslide; mudslide; avalanche; volcano; volcanic eruption; eruption; wildfire;
        bushfire; forest fire; blaze; firefighter; fire broke out; house fire;
        hurricane; cyclone; typhoon; tornado; drought; famine; death toll;
        dead and injured; casualties; survivors; rubble; debris; collapsed building;
        buried; trapped; missing people; search and rescue; rescue; rescuer;
        rescue workers; evacuation; evacuated; emergency services; emergency;
        state of emergency; first responders; relief effort; humanitarian aid;
        red cross; accident; crash; plane crash; air crash; car crash; road accident;
        train crash; derailment; derailed; collision; capsized; shipwreck; explosion;
        gas explosion; blast; industrial accident; chemical spill; oil spill; stampede;
        mine collapse; injured; homeless after; displaced; destroyed homes; damage
    """,
    # economy, business and finance
    "medtop:04000000": """
        economy; economic; economist; economic growth; gdp; gross domestic product;
        recession; inflation; deflation; consumer prices; prices; cost of living;
        interest rate; rate hike; rate cut; basis points; central bank; federal reserve;
        european central bank; bank of england; monetary policy; fiscal policy;
        budget deficit; deficit; public debt; debt; bond yields; treasury; stock market;
        stock exchange; stocks; share price; shares rose; shares fell; investors;
        investment; markets; wall street; dow jones; nasdaq; s&p 500; ftse; currency;
        exchange rate; dollar; euro; yen; sterling; trade; trade deal; trade war;
        tariff; exports; imports; business; company; corporate; profit; revenue;
        earnings; quarterly results; sales; retail; retailer; consumer spending;
        industry; manufacturing; chief executive; ceo; merger; acquisition; takeover;
        ipo; startup; bankruptcy; insolvency; bank; lender; loan; mortgage; finance;
        financial; housing market; oil price; crude oil; opec; commodities; supply chain;
        market forces; productivity; government bonds; credit rating; credit card;
        market crash
    """,
    # education
    "medtop:05000000": """
        education; educational; school; primary school; secondary school; high school;
        elementary school; kindergarten; preschool; nursery school; pupil; student;
        teacher; headteacher; teaching; classroom; curriculum; syllabus; homework;
        textbook; exam; examination; test scores; grades; university; college; campus;
        undergraduate; postgraduate; graduate; graduation; degree course; phd;
        doctorate; lecturer; professor; academic; tuition; tuition fees; student loan;
        scholarship; enrolment; enrollment; admissions; school year; semester;
        term time; school board; education ministry; department of education; ofsted;
        literacy; numeracy; vocational training; apprenticeship; e-learning;
        online learning; remote learning; school closures; special educational needs;
        school funding; teachers union; dropout
    """,
    # environment
    "medtop:06000000": """
        environment; environmental; environmentalist; climate change; climate crisis;
        global warming; greenhouse gas; emissions; carbon emissions; carbon dioxide;
        co2; methane; net zero; carbon neutral; fossil fuels; coal; coal-fired;
        renewable energy; renewables; solar power; solar panels; wind power; wind farm;
        wind turbines; clean energy; green energy; energy transition; electric vehicles;
        pollution; air pollution; air quality; smog; water pollution; plastic waste;
        plastic pollution; microplastics; recycling; landfill; pesticides; biodiversity;
        ecosystem; habitat; wildlife; endangered; endangered species; extinction;
        conservation; conservationist; deforestation; rainforest; forest; reforestation;
        coral reef; ocean; sea level; glacier; ice sheet; melting ice; paris agreement;
        cop28; cop29; un climate; climate summit; sustainability; sustainable;
        national park; nature reserve; oil spill; environmental protection agency;
        green party; waste management; food waste; climate
    """,
    # health
    "medtop:07000000": """
        health; healthcare; health care; public health; health ministry;
        health officials; world health organization; nhs; hospital; clinic; patient;
        doctor; nurse; physician; surgeon; surgery; medical; medicine; medication; drug;
        prescription; pharmaceutical; drugmaker; vaccine; vaccination; vaccinate;
        booster; dose; jab; immunisation; immunization; virus; viral infection;
        infection; infectious; infected; disease; outbreak; epidemic; pandemic; covid;
        covid-19; coronavirus; influenza; flu; measles; malaria; tuberculosis; hiv;
        cholera; ebola; mpox; cancer; tumour; tumor; diabetes; obesity; heart disease;
        heart attack; stroke patients; dementia; alzheimer; mental health; depression;
        symptoms; diagnosis; diagnosed; treatment; therapy; clinical trial; fda; cdc;
        antibodies; immunity; life expectancy; mortality rate; intensive care; icu;
        ambulance; health insurance; epidemiologist
    """,
    # human interest
    "medtop:08000000": """
        human interest; heartwarming; quirky; bizarre; oddity; viral video; went viral;
        celebrity; royal family; royal; prince; princess; duke; duchess; king; queen;
        wedding; married; engagement; birthday; anniversary; centenarian; world record;
        guinness world records; record-breaking; record attempt; award; prize; honoured;
        honored; ceremony; medal of honour; hero; heroic; reunited; reunion; long-lost;
        love story; pet; dog; cat; puppy; kitten; zoo; panda; animal lovers; lottery;
        jackpot; lottery winner; good samaritan; kindness; donation; fundraiser;
        gofundme; miracle; survivor story; tribute; obituary; died aged; funeral;
        memorial; remembrance; lookalike; influencer; fans gathered; autograph;
        red carpet
    """,
    # labour
    "medtop:09000000": """
        labour; labor; labour market; labor market; workers; workforce; employee;
        employer; employment; unemployment; unemployment rate; jobless; jobless rate;
        jobless claims; jobs; job losses; job cuts; layoffs; laid off; redundancies;
        hiring; recruitment; vacancies; payrolls; nonfarm payrolls; wages; minimum wage;
        living wage; pay rise; pay raise; pay cut; pay dispute; pay deal; salary;
        pension; retirement; retirement age; retirees; trade union; trade unions;
        labour union; labor union; unions; union members; union leaders;
        collective bargaining; strike action; on strike; went on strike; general strike;
        walkout; industrial action; picket line; work stoppage; working conditions;
        workplace; overtime; four-day week; working hours; gig economy; zero-hours;
        apprenticeship; skills shortage; labour shortage; labor shortage;
        staff shortages; migrant workers; child labour; child labor; workers' rights;
        occupational safety; employment law; employment tribunal; furlough
    """,
    # lifestyle and leisure
    "medtop:10000000": """
        lifestyle; leisure; travel; traveller; traveler; tourism; tourist; holiday;
        vacation; hotel; resort; cruise; airline passengers; destination; sightseeing;
        backpacking; camping; hiking; theme park; food; recipe; cooking; chef; cuisine;
        restaurant; dining; michelin; wine; beer; cocktail; coffee; bakery; vegan;
        vegetarian; diet; fitness; gym; workout; yoga; wellness; wellbeing; spa; beauty;
        skincare; makeup; cosmetics; fashion; designer clothes; clothing; shopping;
        luxury; home decor; interior design; gardening; gardener; hobby; crafts;
        knitting; puzzle; crossword; board games; dating; relationships; parenting;
        pets; pet owners; summer holidays; festival goers; nightlife; leisure time
    """,
    # politics and government
    "medtop:11000000": """
        politics; political; politician; government; governing; parliament;
        parliamentary; lawmakers; legislators; legislature; legislative; legislation;
        congress; congressional; senate; senator; mp; mps; minister; prime minister;
        president; presidential; vice president; cabinet; cabinet minister; caretaker;
        administration; white house; kremlin; downing street; elysee; state department;
        secretary of state; foreign minister; foreign ministry; foreign policy;
        diplomat; diplomatic; diplomacy; ambassador; embassy; envoy; delegation;
        delegates; bilateral; summit; treaty; sanctions; election; electoral; vote;
        voters; ballot; polling; opinion poll; referendum; campaign trail;
        election campaign; candidate; constituency; opposition; opposition leader;
        ruling party; political party; coalition government; party leader; democrat;
        republican; conservative party; labour party; tory; liberal democrats;
        democracy; democratic; constitution; constitutional; resolution;
        non-binding resolution; quorum; ratified; veto; impeachment; executive order;
        regime; authoritarian; dictator; sovereignty; sovereign; governor; mayor;
        policy makers; policymakers; reforms; nato; united nations; security council;
        european commission; european parliament; bureaucracy; civil servants
    """,
    # religion
    "medtop:12000000": """
        religion; religious; faith; faithful; worship; worshippers; prayer; church;
        cathedral; chapel; mosque; temple; synagogue; monastery; pope; papal; vatican;
        bishop; archbishop; priest; clergy; pastor; imam; rabbi; monk; nun; christian;
        christianity; catholic; protestant; evangelical; orthodox church; muslim; islam;
        islamic; jewish; jews; judaism; hindu; hindus; hinduism; buddhist; buddhism;
        sikh; shiite; shia; sunni; sectarian; holy; holy city; holy site; pilgrim;
        pilgrimage; hajj; mecca; ramadan; eid; easter; christmas; diwali; passover;
        yom kippur; bible; quran; koran; torah; sermon; theology; blasphemy;
        religious freedom; secular; spiritual; interfaith
    """,
    # science and technology
    "medtop:13000000": """
        science; scientist; scientific; research; researchers; study published;
        peer-reviewed; journal nature; laboratory; lab; experiment; physics; physicist;
        chemistry; chemist; biology; biologist; genetics; genome; dna; gene editing;
        fossil; dinosaur; archaeologist; archaeology; astronomy; astronomer; telescope;
        planet; exoplanet; galaxy; black hole; space agency; nasa; esa; spacex;
        astronaut; satellite; rocket launch; space station; mars; moon landing;
        technology; tech; tech company; tech giant; software; hardware; computer;
        computing; quantum computing; internet; broadband; 5g; smartphone; app;
        artificial intelligence; ai; machine learning; chatbot; algorithm; robot;
        robotics; automation; semiconductor; chip; chipmaker; cybersecurity;
        cyber attack; hackers; data breach; encryption; silicon valley;
        startup founders; innovation; engineering; battery technology; mathematics;
        mathematician; nobel prize; invention; patent; outer space
    """,
    # society
    "medtop:14000000": """
        society; social issues; poverty; inequality; homeless; homelessness;
        housing crisis; affordable housing; food bank; welfare; benefits claimants;
        social security; social services; charity; volunteers; ngo; human rights;
        civil rights; rights groups; discrimination; racism; racial; race relations;
        equality; gender; gender equality; women's rights; feminism; lgbt; lgbtq;
        same-sex marriage; transgender; diversity; inclusion; minority; ethnic;
        indigenous; immigration; immigrants; migrants; migration; asylum;
        asylum seekers; refugee; deportation; young people; elderly; ageing population;
        aging population; pensioners; census; demographics; birth rate; marriage;
        divorce; adoption; addiction; suicide; domestic abuse; social media use;
        loneliness; disability; disabled people; social care; child poverty;
        inequality gap; freedom of speech
    """,
    # sport
    "medtop:15000000": """
        sport; athlete; football; soccer; rugby; cricket; tennis; golf; basketball;
        baseball; ice hockey; hockey; volleyball; athletics; swimming; cycling; boxing;
        formula one; grand prix; motorsport; olympic; paralympic; world cup;
        champions league; premier league; la liga; serie a; bundesliga; nba; nfl; mlb;
        nhl; fifa; uefa; ioc; match; fixture; game; tournament; championship; league;
        cup final; semi-final; quarter-final; knockout stage; group stage;
        final whistle; kick-off; half-time; extra time; penalty shootout; penalty; goal;
        scored; scorer; striker; midfielder; defender; goalkeeper; captain; coach;
        head coach; manager sacked; squad; fans; supporters; stadium; referee; var;
        red card; yellow card; offside; free kick; corner kick; header; equaliser;
        equalizer; hat-trick; clean sheet; touchdown; quarterback; home run; innings;
        wicket; batsman; bowler; grand slam; set point; match point; lap; pole position;
        podium; medal; gold medal; world champion; title race; relegation;
        transfer window; season; points table; standings; victory over
    """,
    # conflict, war and peace
    "medtop:16000000": """
        war; warfare; wartime; conflict; armed conflict; military; army; troops;
        soldier; forces; armed forces; security forces; coalition forces;
        special forces; navy; air force; marines; pentagon; defence ministry;
        defense secretary; defence officials; commander; general staff; militia;
        militant; rebels; insurgents; insurgency; guerrilla; jihadist; extremist;
        terrorism; terrorist; terror attack; islamic state; isis; al-qaeda; taliban;
        hezbollah; hamas; missile; rocket; drone strike; airstrike; air strike; bombing;
        bombardment; shelling; artillery; explosives; weapons; arms; ammunition;
        nuclear weapons; warplanes; fighter jets; invasion; invaded; occupation;
        counteroffensive; battlefield; battleground; frontline; front line; combat;
        clashes; fighting; ceasefire; truce; armistice; peace talks; peace deal;
        peace process; peace agreement; peacekeepers; peacekeeping; withdrawal;
        troop withdrawal; pullout; deployment; deployed; military base; air base; bases;
        hostage; prisoners of war; war crimes; genocide; massacre; civilians killed;
        casualties; bloodshed; coup; uprising; protests; protesters; demonstrators;
        riot; unrest; civil unrest; civil war; proxy war; coalition; military offensive;
        defence minister; defense minister; defense department; ministry of defence;
        national defence
    """,
    # weather
    "medtop:17000000": """
        weather; weather forecast; meteorologist; meteorological; met office;
        national weather service; weather warning; severe weather; weather service;
        rain; rainfall; heavy rain; downpour; showers; drizzle; snow; snowfall;
        blizzard; sleet; hail; hailstorm; icy roads; frost; freezing; cold snap;
        cold weather; cold front; warm front; heatwave; heat wave; hottest day;
        record temperatures; temperatures; degrees celsius; celsius; fahrenheit;
        sunshine; sunny; cloudy; fog; mist; humidity; wind; gusts; gale; storm;
        thunderstorm; lightning; tornado; hurricane; typhoon; cyclone; monsoon; drought;
        dry spell; flood warning; el nino; la nina; high pressure; low pressure;
        mph winds; weather conditions
    """,
}


def parse_terms(block: str) -> list[str]:
    """Split a ``;``-separated block into normalised terms (lower case, single spaces)."""
    terms = [re.sub(r"\s+", " ", t).strip().lower() for t in block.split(";")]
    return [t for t in terms if t]


def check_lexicon(lexicon: dict[str, list[str]]) -> list[str]:
    """Problems with the lexicon: a size outside 40-120, or two terms of one topic
    that the matcher cannot tell apart ("vote" and "voted")."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from services.enrich.topics import stems

    problems: list[str] = []
    for qcode, terms in lexicon.items():
        if not MIN_TERMS <= len(terms) <= MAX_TERMS:
            problems.append(f"{qcode}: {len(terms)} terms, want {MIN_TERMS}-{MAX_TERMS}")
        seen: dict[tuple[str, ...], str] = {}
        for term in terms:
            key = tuple(stems(term))
            if key in seen:
                problems.append(f"{qcode}: {term!r} matches the same words as {seen[key]!r}")
            seen.setdefault(key, term)
    return problems


def slugify(label: str) -> str:
    """Same rule as ``shared.streams.slugify`` (kept here so the script runs alone)."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def build(concepts: list[dict[str, object]], release: str) -> dict[str, object]:
    """The packaged taxonomy document from the IPTC concept list."""
    lexicon = {qcode: parse_terms(block) for qcode, block in LEXICON.items()}
    problems = check_lexicon(lexicon)
    top = [c for c in concepts if c["broader"] is None and not c["retired"]]
    top_codes = {str(c["qcode"]) for c in top}
    if top_codes != set(lexicon):
        problems.append(f"lexicon qcodes differ from top level: {sorted(top_codes ^ set(lexicon))}")
    if problems:
        raise SystemExit("lexicon problems:\n  " + "\n  ".join(problems))
    second = [c for c in concepts if c["broader"] in top_codes and not c["retired"]]
    topics: list[dict[str, object]] = []
    for concept in [*top, *second]:
        qcode, label = str(concept["qcode"]), str(concept["label"])
        terms = lexicon.get(qcode, [label.lower()])
        topics.append(
            {
                "qcode": qcode,
                "label": label,
                "slug": slugify(label),
                "broader": concept["broader"],
                "terms": terms,
            }
        )
    return {
        "name": NAME,
        "version": f"{release}+{LEXICON_VERSION}",
        "attribution": ATTRIBUTION,
        "license": LICENSE,
        "source": "http://cv.iptc.org/newscodes/mediatopic/",
        "topics": topics,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("iptc_json", type=Path, help="iptc-mediatopic.json (list of concepts)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--release", default=DEFAULT_RELEASE, help="IPTC release date")
    args = parser.parse_args(argv)
    concepts = json.loads(args.iptc_json.read_text(encoding="utf-8"))
    document = build(concepts, args.release)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    topics = document["topics"]
    assert isinstance(topics, list)
    print(f"wrote {len(topics)} topics to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
