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
LEXICON_VERSION = "newsflow.2"
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
        labour market; labor market; workers; workforce; employee;
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


# Terms for the active second-level topics, on top of each topic's own label.
NARROWER: dict[str, str] = {
    "medtop:20000002": (
        "film; films; movie; movies; actor; actress; box office; album; albums; chart; "
        "singles chart; band; singer; pop; rock; hip hop; rapper; concert; gig; oscar; "
        "oscars; bafta; golden globes; grammy; brit awards; starring; screenplay; "
        "comedy; drama; soap opera; sitcom; musical; theatre; west end; broadway; dance; "
        "ballet; opera; orchestra; festival; record label; music industry; pop star; "
        "film star; hollywood star; nominated; nominations; nominee; best actor; "
        "best actress; best film; best director; soundtrack; tv drama; reality tv; "
        "reality show; talent show; comedian; novel; author; book; books; poet; "
        "painting; exhibition; gallery; museum;"
    ),
    "medtop:20000038": (
        "culture; cultural heritage; heritage site; folklore; traditions; language; "
        "literature; arts council; cultural festival;"
    ),
    "medtop:20000045": (
        "media; broadcaster; broadcasters; bbc; itv; channel 4; channel 5; sky; cnn; "
        "newspaper; newspapers; tabloid; editor; journalist; journalists; reporter; "
        "magazine; television; tv; tv channel; radio; radio station; viewers; ratings; "
        "audience; press freedom; publisher; media group; episode; presenter; "
        "documentary; broadcast; aired; licence fee;"
    ),
    "medtop:20000053": (
        "terrorism; terrorist; terrorists; terror attack; suicide bomber; "
        "suicide bombing; bomb attack; car bomb; al-qaeda; jihadist; extremists; "
        "hostage taking; anti-terror;"
    ),
    "medtop:20000056": (
        "armed conflict; war; troops; soldiers; army; military; offensive; airstrike; "
        "shelling; artillery; fighting; battle; invasion; insurgents; rebels; militia; "
        "ceasefire violation; frontline;"
    ),
    "medtop:20000065": (
        "civil unrest; protest; protests; protesters; demonstration; demonstrators; "
        "riot; riots; rioting; tear gas; clashes with police; uprising; crackdown; "
        "curfew;"
    ),
    "medtop:20000070": (
        "coup d'etat; coup; military coup; coup attempt; junta; seized power; ousted; overthrow;"
    ),
    "medtop:20000071": (
        "massacre; mass killing; genocide; ethnic cleansing; mass grave; atrocities;"
    ),
    "medtop:20000073": (
        "peace process; peace talks; ceasefire; truce; peace deal; peace agreement; "
        "negotiations; mediators; peace plan; armistice;"
    ),
    "medtop:20000077": (
        "post-war reconstruction; reconstruction; rebuilding; demining; disarmament; "
        "demobilisation;"
    ),
    "medtop:20001361": (
        "cyber warfare; cyberwarfare; state-sponsored hackers; cyber attack; "
        "cyberattack; cyber espionage;"
    ),
    "medtop:20001377": (
        "war victims; civilian casualties; civilians killed; displaced; refugees; "
        "war dead; war widows; wounded;"
    ),
    "medtop:20000082": (
        "crime; criminal; murder; murdered; killing; robbery; burglary; theft; fraud; "
        "drug dealing; gang; assault; rape; kidnapping; smuggling; shooting; stabbing; "
        "arson; victim; suspect; suspects; offender; offenders;"
    ),
    "medtop:20000106": (
        "judiciary; judge; judges; trial; jury; verdict; sentenced; "
        "court of appeal; supreme court; high court; magistrates; "
        "prosecutor; prosecution; defence lawyer; lawyer; lawyers; acquitted; convicted; "
        "guilty; pleaded guilty; lawsuit; sued;"
    ),
    "medtop:20000121": ("regulations; statute; loophole; copyright law;"),
    "medtop:20000129": (
        "law enforcement; police; police officers; officers; detectives; arrested; "
        "arrest; arrests; raid; investigation; investigators; fbi; scotland yard; "
        "interpol; custody; patrol;"
    ),
    "medtop:20000139": (
        "accident; crash; car crash; plane crash; train crash; collision; derailed; "
        "explosion; blast; blaze; drowned; killed; death toll; survivors; wreckage; "
        "capsized;"
    ),
    "medtop:20000148": (
        "disaster; natural disaster; earthquake; quake; tsunami; flood; floods; "
        "flooding; landslide; hurricane; cyclone; typhoon; volcano; eruption; wildfire; "
        "drought; famine; avalanche;"
    ),
    "medtop:20000168": (
        "emergency response; rescue; rescuers; rescue workers; evacuation; evacuated; "
        "emergency services; firefighters; aid agencies; relief effort; "
        "humanitarian aid; disaster relief;"
    ),
    "medtop:20000170": (
        "business information; annual report; results; earnings; quarterly results; "
        "forecast; outlook; guidance; profit warning;"
    ),
    "medtop:20000209": (
        "products and services; retail; retailer; retailers; supermarket; shops; "
        "consumer; consumers; airline; airlines; carmaker; car maker; car sales; brewer; "
        "telecoms; energy firm; oil firm; drugmaker; insurer; insurance; manufacturing; "
        "manufacturer; steel; mining; property market; housing market; house prices; "
        "tourism;"
    ),
    "medtop:20000344": (
        "economy; economic; economic growth; growth; gdp; recession; inflation; "
        "interest rates; interest rate; central bank; bank of england; federal reserve; "
        "ecb; unemployment rate; jobless; budget deficit; deficit; public spending; "
        "trade deficit; exports; imports; consumer spending; economists; exchange rate; "
        "currency; dollar; euro; sterling; yen; imf; world bank; fiscal; "
        "monetary policy; wto; trade talks; tariffs; chancellor; budget; tax; taxes; "
        "borrowing; debt;"
    ),
    "medtop:20000349": (
        "business enterprise; company; companies; firm; firms; corporation; "
        "chief executive; executive; chairman; board; shareholders; shareholder; "
        "takeover; takeover bid; merger; acquisition; deal; bid; stake; profit; profits; "
        "pre-tax profits; revenue; revenues; turnover; sales; bankruptcy; bankrupt; "
        "restructuring; job cuts; layoffs; subsidiary; brand; investors; investment;"
    ),
    "medtop:20000385": (
        "market and exchange; shares; share price; stock; stocks; stock market; "
        "stock exchange; ftse; dow jones; nasdaq; nikkei; trading; traders; investors; "
        "bonds; oil price; oil prices; crude; barrel; commodities; gold price; analysts; "
        "hedge fund; ipo; flotation; market value; valuation;"
    ),
    "medtop:20000398": ("parents group; parent-teacher; parents' association; school governors;"),
    "medtop:20000399": (
        "religious education; faith school; faith schools; religious school; madrassa;"
    ),
    "medtop:20000400": (
        "school; schools; primary school; secondary school; high school; pupils; "
        "classroom; head teacher; headteacher; state schools; private schools;"
    ),
    "medtop:20000410": ("social learning; adult education; lifelong learning; literacy;"),
    "medtop:20000412": ("curriculum; syllabus; national curriculum; lessons;"),
    "medtop:20000413": (
        "educational testing and examinations; exam; exams; examinations; gcse; "
        "a-levels; test scores;"
    ),
    "medtop:20000414": ("entrance examination; admissions test; entrance exam;"),
    "medtop:20000415": (
        "students; student; pupils; graduates; tuition fees; student loans; university; "
        "universities; college; campus;"
    ),
    "medtop:20000416": ("teachers; teacher; teaching; lecturers; academics; teaching union;"),
    "medtop:20001216": (
        "vocational education; apprenticeships; apprenticeship; vocational training;"
    ),
    "medtop:20001217": ("educational grading; grades; league tables; grade inflation;"),
    "medtop:20001337": (
        "online and remote learning; e-learning; distance learning; online courses;"
    ),
    "medtop:20000418": (
        "climate change; global warming; greenhouse gases; carbon emissions; emissions; "
        "kyoto protocol; carbon dioxide; co2; fossil fuels;"
    ),
    "medtop:20000420": (
        "conservation; endangered species; wildlife; habitat; national park; "
        "protected area; conservationists; extinction;"
    ),
    "medtop:20000424": (
        "environmental pollution; pollution; air pollution; oil spill; toxic waste; "
        "contamination; smog; litter;"
    ),
    "medtop:20000430": (
        "natural resource; natural resources; water supply; deforestation; logging; "
        "fisheries; overfishing;"
    ),
    "medtop:20000441": (
        "nature; forest; forests; rainforest; species; animals; birds; plants; ecosystem;"
    ),
    "medtop:20001374": (
        "sustainability; renewable energy; wind power; wind farm; solar power; "
        "recycling; green energy; sustainable;"
    ),
    "medtop:20000446": (
        "disease and condition; disease; illness; cancer; diabetes; heart disease; "
        "virus outbreak; flu; bird flu; hiv; aids; malaria; obesity; dementia; "
        "infection; epidemic; pandemic; symptoms; patients;"
    ),
    "medtop:20000461": (
        "health facility; hospital; hospitals; clinic; clinics; ward; a&e; care home;"
    ),
    "medtop:20000463": (
        "health organisation; world health organization; nhs; health authority; health service;"
    ),
    "medtop:20000464": (
        "health treatment and procedure; treatment; surgery; transplant; therapy; "
        "drug trial; clinical trial; vaccine; vaccination; prescription; medication;"
    ),
    "medtop:20000480": (
        "government health care; nhs; health service; health secretary; health minister; "
        "waiting lists; waiting times; medicare;"
    ),
    "medtop:20000483": ("health insurance; medical insurance; health cover;"),
    "medtop:20000484": ("private health care; private hospital; private clinic; private patients;"),
    "medtop:20000485": (
        "medical profession; doctors; doctor; nurses; nurse; gps; surgeons; "
        "medical staff; physicians;"
    ),
    "medtop:20001339": ("wellness; wellbeing; mental health; healthy eating;"),
    "medtop:20001358": (
        "public health; health officials; public health warning; smoking ban; smoking; "
        "alcohol; binge drinking;"
    ),
    "medtop:20000498": (
        "award and prize; prize; prizes; honoured; honour; knighthood; medal of honour;"
    ),
    "medtop:20000499": (
        "record and achievement; world record; record-breaking; guinness world record; "
        "oldest; youngest;"
    ),
    "medtop:20000501": (
        "ceremony; ceremonies; celebration; wedding; royal wedding; funeral; memorial service;"
    ),
    "medtop:20000503": ("human mishap; mishap; blunder; gaffe;"),
    "medtop:20000504": ("high society; aristocracy; socialite; royal family;"),
    "medtop:20000505": ("celebrity; celebrities; famous; fame; tabloids; paparazzi; gossip;"),
    "medtop:20001237": ("anniversary; anniversaries; commemoration; centenary;"),
    "medtop:20001238": ("birthday; birthdays; turned 100;"),
    "medtop:20000509": (
        "employment; jobs; workers; workforce; employees; staff; hiring; recruitment; "
        "wages; pay; minimum wage; salary; pay rise;"
    ),
    "medtop:20000521": (
        "employment legislation; working time directive; employment law; labour law;"
    ),
    "medtop:20000523": (
        "labour market; job market; jobs market; job creation; vacancies; skills shortage;"
    ),
    "medtop:20000524": (
        "labour relations; strike; strikes; industrial action; walkout; pay dispute; "
        "collective bargaining;"
    ),
    "medtop:20000531": (
        "retirement; pension; pensions; pensioners; retirement age; state pension;"
    ),
    "medtop:20000533": ("unemployment; unemployed; jobless; redundancies; laid off; job losses;"),
    "medtop:20000536": ("unions; union; trade union; trade unions; tuc; union leaders;"),
    "medtop:20000538": (
        "leisure; hobby; hobbies; holiday; holidays; travel; tourists; gardening; "
        "cooking; recipes; dining; games; gaming;"
    ),
    "medtop:20000565": ("lifestyle; fashion; diet; beauty; shopping; food; drink;"),
    "medtop:20000574": (
        "election; elections; general election; poll; polls; opinion poll; voters; vote; "
        "votes; voting; ballot; campaign; campaigning; candidate; candidates; manifesto; "
        "constituency; seats; marginal seats; turnout; polling day; election campaign; "
        "re-election; electoral commission;"
    ),
    "medtop:20000587": (
        "fundamental rights; civil liberties; human rights; freedom of speech; "
        "free speech; privacy; id cards; identity cards; right to protest;"
    ),
    "medtop:20000593": (
        "government; ministers; minister; cabinet; parliament; mps; mp; peers; "
        "house of commons; commons; house of lords; lords; labour; tories; tory; "
        "conservatives; conservative; lib dems; liberal democrats; party; parties; "
        "party leader; prime minister; chancellor; home secretary; foreign secretary; "
        "shadow; opposition; downing street; whitehall; westminster; senate; congress; "
        "white house; president; backbenchers; backbench; whip;"
    ),
    "medtop:20000621": (
        "government policy; policy; policies; reform; reforms; proposals; white paper; "
        "green paper; public services; spending plans; tax cuts; council tax; "
        "immigration policy; asylum policy;"
    ),
    "medtop:20000638": (
        "international relations; diplomacy; diplomatic; diplomats; foreign policy; "
        "ambassador; embassy; summit; bilateral; sanctions; united nations; un; nato; "
        "european union; eu; g8; treaty;"
    ),
    "medtop:20000646": (
        "non-governmental organisation; ngo; ngos; charity; charities; campaign group; "
        "pressure group; amnesty international; greenpeace; oxfam;"
    ),
    "medtop:20000648": (
        "political prisoners and dissenters; dissident; dissidents; political prisoner; "
        "political prisoners; detained without trial;"
    ),
    "medtop:20000657": (
        "belief systems; religion; christianity; islam; judaism; hinduism; buddhism; atheism;"
    ),
    "medtop:20000688": ("religious conflict; sectarian; sectarian violence; religious violence;"),
    "medtop:20000690": (
        "religious festival and holiday; ramadan; eid; diwali; hanukkah; passover;"
    ),
    "medtop:20000696": ("religious ritual; prayer; prayers; worship; pilgrimage; baptism;"),
    "medtop:20000697": (
        "religious facility; church; churches; mosque; mosques; synagogue; temple; cathedral;"
    ),
    "medtop:20000702": (
        "relations between religion and government; religious freedom; secularism; blasphemy law;"
    ),
    "medtop:20000703": (
        "religious leader; pope; archbishop; bishop; imam; rabbi; cardinal; cleric; "
        "clerics; priest;"
    ),
    "medtop:20000705": ("religious text; bible; koran; quran; torah;"),
    "medtop:20000710": (
        "biomedical science; biomedical; stem cell; stem cells; cloning; genetics; "
        "genome; dna; biotechnology;"
    ),
    "medtop:20000715": ("mathematics; mathematician; mathematical; algorithm;"),
    "medtop:20000717": (
        "natural science; physics; chemistry; biology; astronomy; geology; space; "
        "planet; mars; moon; nasa; esa; spacecraft; probe; telescope; galaxy; "
        "stars and planets;"
    ),
    "medtop:20000735": (
        "scientific research; research; researchers; scientists; study; studies; "
        "experiment; findings; journal;"
    ),
    "medtop:20000741": (
        "scientific institution; research institute; laboratory; royal society; "
        "academy of sciences;"
    ),
    "medtop:20000742": (
        "social sciences; sociology; psychology; economics research; anthropology;"
    ),
    "medtop:20000755": ("scientific standards; standards body; measurement standard; metrology;"),
    "medtop:20000756": (
        "technology and engineering; technology; technologies; hi-tech; high-tech; "
        "computer; computers; pc; pcs; laptop; laptops; software; hardware; chip; chips; "
        "processor; microsoft; apple; google; ibm; intel; sony; nokia; mobile phone; "
        "mobile phones; mobiles; phone; phones; handset; handsets; gadget; gadgets; "
        "broadband; internet; web; website; websites; online; e-mail; email; emails; "
        "blog; blogs; bloggers; search engine; browser; firefox; linux; open source; "
        "operating system; spam; spammers; phishing; hackers; hacker; security firm; "
        "file-sharing; peer-to-peer; download; downloads; downloading; digital; "
        "digital music; ipod; itunes; mp3; dvd; dvds; high-definition; console; "
        "consoles; playstation; xbox; nintendo; games console; video game; video games; "
        "gamers; games industry; 3g; wi-fi; wireless; bluetooth; network; networks; "
        "users; net users; technology firm; tech firm; telecoms; texting; text messages; "
        "camera phone; digital camera; robot; robots; engineering; engineers; "
        "innovation; computer virus; computer viruses; anti-virus;"
    ),
    "medtop:20000768": ("communities; local community; neighbourhood;"),
    "medtop:20000770": (
        "demographics; population; census; birth rate; ageing population; life expectancy;"
    ),
    "medtop:20000771": (
        "immigration; immigrants; migrants; asylum; asylum seekers; illegal immigrants; "
        "border controls; visas; work permits;"
    ),
    "medtop:20000772": ("emigration; emigrants; brain drain; expatriates;"),
    "medtop:20000775": (
        "discrimination; racism; racist; sexism; homophobia; prejudice; equal rights;"
    ),
    "medtop:20000780": ("family; families; marriage; divorce; childcare; adoption;"),
    "medtop:20000788": ("demographic group; young people; elderly; ethnic minorities; teenagers;"),
    "medtop:20000799": ("social condition; poverty; homelessness; inequality; deprivation; slums;"),
    "medtop:20000802": (
        "social problem; anti-social behaviour; addiction; drug abuse; alcoholism; "
        "gambling; teenage pregnancy;"
    ),
    "medtop:20000808": ("values; morality; ethics; ethical;"),
    "medtop:20000817": (
        "welfare; benefits; social security; welfare state; child benefit; tax credits; "
        "social services;"
    ),
    "medtop:20001373": (
        "diversity, equity and inclusion; diversity; inclusion; equality; equal opportunities;"
    ),
    "medtop:20000822": (
        "football; soccer; rugby; rugby union; rugby league; cricket; tennis; golf; "
        "athletics; boxing; snooker; cycling; swimming; horse racing; motor racing; "
        "formula one; basketball; baseball; ice hockey; sailing; rowing; skiing; "
        "marathon; sprint; sprinter; hurdles; relay; cross-country; triathlon; darts; "
        "squash; badminton;"
    ),
    "medtop:20001103": (
        "disciplinary action in sport; suspension; suspended; banned for; ban; fined; "
        "red card; disciplinary hearing; misconduct charge; touchline ban;"
    ),
    "medtop:20001104": (
        "drug use in sport; doping; drugs test; drug test; failed a drugs test; "
        "steroids; thg; epo; wada; anti-doping; banned substance;"
    ),
    "medtop:20001108": (
        "sport event; match; matches; game; games; tournament; championship; "
        "championships; final; semi-final; quarter-final; fixture; fixtures; derby; "
        "olympics; olympic games; world cup; six nations; grand slam; australian open; "
        "us open; french open; wimbledon; world championships; grand prix; race; races; "
        "league; premiership; premier league; champions league; fa cup; uefa cup; "
        "heineken cup; tour de france; ryder cup; test match; test series;"
    ),
    "medtop:20001124": ("sport industry; sponsorship; broadcasting rights; tv rights; kit deal;"),
    "medtop:20001125": (
        "sport organisation; fifa; uefa; ioc; fa; football association; rfu; iaaf; lta; "
        "club; clubs; team; teams; squad; national team;"
    ),
    "medtop:20001126": (
        "sport venue; stadium; arena; pitch; circuit; wembley; twickenham; anfield; "
        "old trafford; lord's;"
    ),
    "medtop:20001148": (
        "sports transaction; transfer; transfer fee; signing; signed; loan deal; "
        "contract; new contract; free transfer; transfer window; bid for;"
    ),
    "medtop:20001301": (
        "sport achievement; victory; beat; beaten; defeat; defeated; title; champion; "
        "champions; gold medal; silver medal; bronze medal; medal; unbeaten; winner; "
        "winners; trophy; cup; crown; seeded; seed; top seed; qualify; qualified; "
        "qualifier; promoted; relegated;"
    ),
    "medtop:20001323": (
        "sports coaching; coach; coaches; manager; head coach; training; trained; "
        "trainer; fitness; injury; injured; injuries; hamstring; ankle; knee; groin; "
        "squad; selection; captain; skipper;"
    ),
    "medtop:20001324": (
        "sports management and ownership; club owner; chairman of the club; "
        "takeover of the club; board of directors;"
    ),
    "medtop:20001325": (
        "sports officiating; referee; referees; umpire; umpires; linesman; officials; "
        "penalty decision; var; video replay;"
    ),
    "medtop:20001128": ("weather forecast; forecasters; met office;"),
    "medtop:20001129": (
        "weather phenomena; rain; snow; storm; storms; wind; winds; heatwave; fog; "
        "frost; hail; thunderstorm; tornado;"
    ),
    "medtop:20001130": (
        "weather statistic; temperatures; rainfall; hottest; coldest; wettest; record temperature;"
    ),
    "medtop:20001131": (
        "weather warning; severe weather warning; flood warning; weather alert; storm warning;"
    ),
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


def distinct_terms(terms: list[str]) -> list[str]:
    """``terms`` without those the matcher cannot tell from an earlier one."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from services.enrich.topics import stems

    seen: set[tuple[str, ...]] = set()
    kept: list[str] = []
    for term in terms:
        key = tuple(stems(term))
        if key and key not in seen:
            seen.add(key)
            kept.append(term)
    return kept


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
    unknown = set(NARROWER) - {str(c["qcode"]) for c in second}
    if unknown:
        raise SystemExit(f"NARROWER names topics that are not second-level: {sorted(unknown)}")
    topics: list[dict[str, object]] = []
    for concept in [*top, *second]:
        qcode, label = str(concept["qcode"]), str(concept["label"])
        if qcode in lexicon:
            terms = lexicon[qcode]
        else:
            terms = distinct_terms([label.lower(), *parse_terms(NARROWER.get(qcode, ""))])
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
        "language": "en",
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
