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
LEXICON_VERSION = "newsflow.5"
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
MIN_TERMS, MAX_TERMS = 40, 140

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
        art fair; auction house; unesco world heritage; tour dates; world tour;
        stadium show; setlist; final season; season finale; series finale; showrunner;
        episodes; release date; streaming platform
    """,
    # crime, law and justice
    "medtop:02000000": """
        crime; criminal; police; police officer; policeman; detective; arrest; suspect;
        murder; homicide; manslaughter; robbery; burglary; theft; stolen; fraud; scam;
        embezzlement; bribery; corruption; money laundering; smuggling; trafficking;
        drug trafficking; drug war; war on drugs; turf war; human trafficking;
        cartel; gang; gangster; mafia; kidnapping;
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
        justice ministry; attorney general; investigation into; investigators; ransomware;
        extortion; cybercriminals; shooting; gunfire; gunshot wounds; opened fire;
        hate crime; murder trial
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
        mine collapse; injured; homeless after; displaced; destroyed homes; damage;
        without power; power cuts; power outages; fallen trees; storm damage;
        trains cancelled; flights cancelled
    """,
    # economy, business and finance
    "medtop:04000000": """
        economy; economic; economist; economic growth; gdp; gross domestic product;
        recession; inflation; deflation; consumer prices; prices; cost of living;
        interest rate; rate hike; rate cut; basis points; central bank; federal reserve;
        european central bank; bank of england; monetary policy; fiscal policy; policy rate;
        budget deficit; deficit; public debt; debt; bond yields; treasury; stock market;
        stock exchange; stocks; share price; shares rose; shares fell; investors;
        investment; markets; wall street; dow jones; nasdaq; s&p 500; ftse; currency;
        exchange rate; dollar; euro; yen; sterling; trade; trade deal; trade war;
        price war; bidding war;
        tariff; exports; imports; business; company; corporate; profit; revenue;
        earnings; quarterly results; sales; retail; retailer; consumer spending;
        industry; manufacturing; chief executive; ceo; merger; acquisition; takeover;
        ipo; startup; bankruptcy; insolvency; bank; lender; loan; mortgage; finance;
        financial; housing market; oil price; crude oil; opec; commodities; supply chain;
        market forces; productivity; government bonds; credit rating; credit card;
        market crash; factory; chip deal; supply deal; parts maker; car parts;
        plant closure; shipping; port operators; ports
    """,
    # education
    "medtop:05000000": """
        education; exam results; pass rate; educational; school; primary school;
        secondary school; high school; elementary school; kindergarten; preschool;
        nursery school; pupil; student;
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
        green party; waste management; food waste; climate; trees; tree planting;
        plant trees; urban forest; tree canopy; green space; coral bleaching; bleaching;
        mangroves; rhino; poaching; marine heatwave; reef
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
        cholera; ebola; mpox; dengue; zika; polio; hepatitis; sepsis; bird flu;
        norovirus; whooping cough; cancer; tumour; tumor; diabetes; obesity; heart disease;
        heart attack; stroke patients; dementia; alzheimer; mental health; depression;
        symptoms; diagnosis; diagnosed; treatment; therapy; clinical trial; fda; cdc;
        antibodies; immunity; life expectancy; mortality rate; intensive care; icu;
        ambulance; health insurance; epidemiologist; heatstroke; heat stroke;
        heat-related illness; legionella; legionnaires; dehydration
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
        red carpet; grandmother; grandfather; twins; separated at birth; good deed;
        honesty; delivered a baby
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
        occupational safety; employment law; employment tribunal; furlough; dockworkers;
        dockers; longshoremen; strikers; strike ballot; strike vote; walked off the job;
        union contract; labor contract; labour contract; delivery riders; gig workers;
        couriers; teaching posts; staff cuts
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
        politics; political; politician; culture war; government; governing; parliament;
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
        european commission; european parliament; bureaucracy; civil servants;
        european union; sworn in; inauguration; election officials; election results;
        chancellor; bundestag; certify the results
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
        science; scientist; scientific; research; researchers; research team;
        team of researchers; team of scientists; study published;
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
        inequality gap; freedom of speech; births; fertility rate; population decline;
        gender-based violence; femicide; women's shelter; teenagers; social cohesion
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
        wicket; batsman; bowler; test match; ashes series; at stumps; one-day international;
        big bash; ipl; t20; run chase; grand slam; set point;
        match point; lap; pole position;
        podium; medal; gold medal; world champion; title race; relegation;
        transfer window; season; points table; standings; victory over; anfield;
        old trafford; stamford bridge; etihad stadium; goodison park; emirates stadium;
        camp nou; bernabeu; everton; tottenham hotspur; arsenal; manchester united;
        manchester city; real madrid; bayern munich; juventus; lakers; yankees
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
        hostage; prisoners of war; prisoner swap; prisoner exchange; war crimes;
        genocide; massacre; civilians killed;
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
        mph winds; weather conditions; torrential; torrential rain; rainstorm; deluge;
        forecasters; wind warning; storm warning; gale warning; status orange; status yellow;
        status red; yellow warning; amber warning; orange warning; met eireann
    """,
}


# Terms for the active second-level topics, on top of each topic's own label.
NARROWER: dict[str, str] = {
    "medtop:20000002": (
        "film; movie; movies; actor; actress; box office; album; chart; singles chart; band; "
        "singer; pop; rock; hip hop; rapper; concert; gig; oscar; bafta; golden globes; "
        "grammy; brit awards; starring; screenplay; comedy; drama; soap opera; sitcom; "
        "musical; theatre; west end; broadway; dance; ballet; opera; orchestra; festival; "
        "record label; music industry; pop star; film star; hollywood star; nominated; "
        "nominations; nominee; best actor; best actress; best film; best director; "
        "soundtrack; tv drama; reality tv; reality show; talent show; comedian; novel; "
        "author; book; poet; painting; exhibition; gallery; museum; book award; literary "
        "prize; literary award; music award; film award; awards ceremony; award-winning; "
        "music video; record company; record deal; number one single; top 10 single; top 40; "
        "album chart; box set; children's book; children's author; fairytale; fairy tale; "
        "composer; conductor; pianist; guitarist; drummer; vocalist; frontman; lead singer; "
        "rock star; pop group; boy band; girl group; world tour; concert tour; stand-up; "
        "stand-up comedian; tv presenter; chat show; talk show; game show; quiz show; soap "
        "star; film-maker; movie star; big screen; animated film; animation; cartoon; "
        "blockbuster; remake; film studio; dvd release; cinema-goers; cinemagoers; "
        "moviegoers; screen actors guild; directed by; film version; stage version; west end "
        "show; hit single; hit song; chart-topping; debut album; new album; studio album; "
        "greatest hits; album sales; record sales; single sales; dvd sales; box-office "
        "takings; film industry; film-making; entertainment industry; showbiz; showbusiness; "
        "show business; a-list; red carpet; paparazzi; oscar nomination; oscar-winning; best "
        "supporting actor; best supporting actress; best picture; film critic; crime drama; "
        "crime thriller; crime novel; crime writer; crime fiction; detective series; "
        "detective novel; detective drama; murder mystery; courtroom drama; police drama; cop "
        "show; legal drama; horror film; war film; spy film; spy thriller;"
    ),
    "medtop:20000038": (
        "cultural heritage; heritage site; folklore; traditions; language; literature; arts "
        "council; cultural festival;"
    ),
    "medtop:20000045": (
        "media; broadcaster; bbc; itv; channel 4; channel 5; sky; cnn; newspaper; tabloid; "
        "editor; journalist; reporter; magazine; television; tv; tv channel; radio; radio "
        "station; viewers; ratings; audience; press freedom; publisher; media group; episode; "
        "presenter; documentary; broadcast; aired; licence fee;"
    ),
    "medtop:20000053": (
        "terrorism; terrorist; terror attack; suicide bomber; suicide bombing; bomb attack; "
        "car bomb; al-qaeda; jihadist; extremists; hostage taking; anti-terror;"
    ),
    "medtop:20000056": (
        "war; troops; soldiers; army; military; offensive; airstrike; shelling; artillery; "
        "fighting; battle; invasion; insurgents; rebels; militia; ceasefire violation; "
        "frontline;"
    ),
    "medtop:20000065": (
        "protest; protesters; demonstration; demonstrators; riot; tear gas; clashes with "
        "police; uprising; crackdown; curfew;"
    ),
    "medtop:20000070": (
        "coup; military coup; coup attempt; junta; seized power; ousted; overthrow;"
    ),
    "medtop:20000071": ("mass killing; genocide; ethnic cleansing; mass grave; atrocities;"),
    "medtop:20000073": (
        "peace talks; ceasefire; truce; peace deal; peace agreement; negotiations; mediators; "
        "peace plan; armistice;"
    ),
    "medtop:20000077": ("reconstruction; rebuilding; demining; disarmament; demobilisation;"),
    "medtop:20000082": (
        "criminal; murder; killing; robbery; burglary; theft; fraud; drug dealing; gang; "
        "assault; rape; kidnapping; smuggling; shooting; stabbing; arson; victim; suspect; "
        "offender;"
    ),
    "medtop:20000106": (
        "judge; trial; jury; verdict; sentenced; court of appeal; supreme court; high court; "
        "magistrates; prosecutor; prosecution; defence lawyer; lawyer; acquitted; convicted; "
        "guilty; pleaded guilty; lawsuit; sued;"
    ),
    "medtop:20000121": ("regulations; statute; loophole; copyright law;"),
    "medtop:20000129": (
        "police; police officers; officers; detectives; arrested; raid; investigation; "
        "investigators; fbi; scotland yard; interpol; custody; patrol;"
    ),
    "medtop:20000139": (
        "accident; crash; car crash; plane crash; train crash; collision; derailed; "
        "explosion; blast; blaze; drowned; killed; death toll; survivors; wreckage; capsized;"
    ),
    "medtop:20000148": (
        "natural disaster; earthquake; quake; tsunami; flood; landslide; hurricane; cyclone; "
        "typhoon; volcano; eruption; wildfire; drought; famine; avalanche;"
    ),
    "medtop:20000168": (
        "rescue; rescuers; rescue workers; evacuation; evacuated; emergency services; "
        "firefighters; aid agencies; relief effort; humanitarian aid; disaster relief;"
    ),
    "medtop:20000170": (
        "annual report; results; earnings; quarterly results; forecast; outlook; guidance; "
        "profit warning;"
    ),
    "medtop:20000209": (
        "retail; retailer; supermarket; shops; consumer; airline; carmaker; car maker; car "
        "sales; brewer; telecoms; energy firm; oil firm; drugmaker; insurer; insurance; "
        "manufacturing; manufacturer; steel; mining; property market; housing market; house "
        "prices; tourism;"
    ),
    "medtop:20000344": (
        "economic; economic growth; growth; gdp; recession; inflation; interest rates; "
        "central bank; bank of england; federal reserve; ecb; unemployment rate; jobless; "
        "budget deficit; deficit; public spending; trade deficit; exports; imports; consumer "
        "spending; economists; exchange rate; currency; dollar; euro; sterling; yen; imf; "
        "world bank; fiscal; monetary policy; wto; trade talks; tariffs; chancellor; budget; "
        "tax; borrowing; debt; trade minister; trade secretary; industry minister; industry "
        "secretary; agriculture minister; energy minister; finance minister; economy "
        "minister; treasury secretary; economic reforms; economic policy; economic slowdown; "
        "slowdown; downturn; upturn; trade surplus; current account deficit; fuel prices; "
        "energy prices; commodity prices; crude prices; interest rate rise; rate rise; rise "
        "in interest rates; eurozone; euro zone; single currency; stability pact; stability "
        "and growth pact; g7; group of seven; pre-budget report; spending review; budget "
        "surplus;"
    ),
    "medtop:20000349": (
        "company; firm; corporation; chief executive; executive; chairman; board; "
        "shareholders; takeover; takeover bid; merger; acquisition; deal; bid; stake; profit; "
        "pre-tax profits; revenue; turnover; sales; bankruptcy; bankrupt; restructuring; job "
        "cuts; layoffs; subsidiary; brand; investors; investment; chief executive officer; "
        "chief financial officer; chief operating officer; financial officer; finance "
        "director; managing director; regulator; competition watchdog; competition "
        "commission; competition authorities; antitrust; anti-trust; monopoly; office of fair "
        "trading; annual profits; quarterly profit; full-year profits; market share; earnings "
        "per share; per share; dividend; banks; stock market listing; stock market flotation; "
        "business confidence; consumer confidence;"
    ),
    "medtop:20000385": (
        "shares; share price; stock; stock market; stock exchange; ftse; dow jones; nasdaq; "
        "nikkei; trading; traders; investors; bonds; oil price; crude; barrel; commodities; "
        "gold price; analysts; hedge fund; ipo; flotation; market value; valuation; pension "
        "fund; pension scheme; pension deficit; pensions industry; pension provider; annuity; "
        "savers; fund manager; asset management; private equity; venture capital; accounting "
        "scandal; accounting irregularities; accounting fraud; insider trading; securities "
        "and exchange commission; financial services authority; financial regulator; stock "
        "market regulator; shareholder lawsuit; class action lawsuit;"
    ),
    "medtop:20000398": ("parent-teacher; parents' association; school governors;"),
    "medtop:20000399": ("faith school; religious school; madrassa;"),
    "medtop:20000400": (
        "primary school; secondary school; high school; pupils; classroom; head teacher; "
        "headteacher; state schools; private schools;"
    ),
    "medtop:20000410": ("adult education; lifelong learning; literacy;"),
    "medtop:20000412": ("syllabus; national curriculum; lessons;"),
    "medtop:20000413": ("exam; examinations; gcse; a-levels; test scores;"),
    "medtop:20000414": ("admissions test; entrance exam;"),
    "medtop:20000415": (
        "pupils; graduates; tuition fees; student loans; university; college; campus;"
    ),
    "medtop:20000416": ("teaching; lecturers; academics; teaching union;"),
    "medtop:20000418": (
        "global warming; greenhouse gases; carbon emissions; emissions; kyoto protocol; "
        "carbon dioxide; co2; fossil fuels;"
    ),
    "medtop:20000420": (
        "endangered species; wildlife; habitat; national park; protected area; "
        "conservationists; extinction;"
    ),
    "medtop:20000424": (
        "pollution; air pollution; oil spill; toxic waste; contamination; smog; litter;"
    ),
    "medtop:20000430": ("water supply; deforestation; logging; fisheries; overfishing;"),
    "medtop:20000441": ("forest; rainforest; species; animals; birds; plants; ecosystem;"),
    "medtop:20000446": (
        "disease; illness; cancer; diabetes; heart disease; virus outbreak; flu; bird flu; "
        "hiv; aids; malaria; obesity; dementia; infection; epidemic; pandemic; symptoms; "
        "patients;"
    ),
    "medtop:20000461": ("hospital; clinic; ward; a&e; care home;"),
    "medtop:20000463": ("world health organization; nhs; health authority; health service;"),
    "medtop:20000464": (
        "treatment; surgery; transplant; therapy; drug trial; clinical trial; vaccine; "
        "vaccination; prescription; medication;"
    ),
    "medtop:20000480": (
        "nhs; health service; health secretary; health minister; waiting lists; waiting "
        "times; medicare;"
    ),
    "medtop:20000483": ("medical insurance; health cover;"),
    "medtop:20000484": ("private hospital; private clinic; private patients;"),
    "medtop:20000485": ("doctors; nurses; gps; surgeons; medical staff; physicians;"),
    "medtop:20000498": ("prize; honoured; knighthood; medal of honour;"),
    "medtop:20000499": ("world record; record-breaking; guinness world record; oldest; youngest;"),
    "medtop:20000501": ("celebration; wedding; royal wedding; funeral; memorial service;"),
    "medtop:20000503": ("mishap; blunder; gaffe;"),
    "medtop:20000504": ("aristocracy; socialite; royal family;"),
    "medtop:20000505": ("famous; fame; tabloids; paparazzi; gossip;"),
    "medtop:20000509": (
        "jobs; workers; workforce; employees; staff; hiring; recruitment; wages; pay; minimum "
        "wage; salary; pay rise;"
    ),
    "medtop:20000521": ("working time directive; employment law; labour law;"),
    "medtop:20000523": ("job market; job creation; vacancies; skills shortage;"),
    "medtop:20000524": ("strike; industrial action; walkout; pay dispute; collective bargaining;"),
    "medtop:20000531": ("pension; pensioners; retirement age; state pension;"),
    "medtop:20000533": ("unemployed; jobless; redundancies; laid off; job losses;"),
    "medtop:20000536": ("union; trade union; trade unions; tuc; union leaders;"),
    "medtop:20000538": (
        "hobby; holiday; travel; tourists; gardening; cooking; recipes; dining; games;"
    ),
    "medtop:20000565": ("fashion; diet; beauty; shopping; food; drink;"),
    "medtop:20000574": (
        "general election; poll; opinion poll; voters; vote; ballot; campaign; candidate; "
        "manifesto; constituency; seats; marginal seats; turnout; polling day; election "
        "campaign; re-election; electoral commission; election date; election day; "
        "canvassing; hustings; electorate; by-election; postal votes; postal ballot; swing "
        "voters; party conference; spring conference; party members; party activists; "
        "election pledge; manifesto pledge; election battle; polling station; poll lead; poll "
        "rating; election broadcast; party election broadcast; election poster; poster "
        "campaign; voting system; electoral reform;"
    ),
    "medtop:20000587": (
        "civil liberties; human rights; freedom of speech; free speech; privacy; id cards; "
        "identity cards; right to protest;"
    ),
    "medtop:20000593": (
        "ministers; cabinet; parliament; mps; mp; peers; house of commons; commons; house of "
        "lords; lords; labour; tories; conservatives; lib dems; liberal democrats; party; "
        "party leader; prime minister; chancellor; home secretary; foreign secretary; shadow; "
        "opposition; downing street; whitehall; westminster; senate; congress; white house; "
        "president; backbenchers; backbench; whip; government minister; junior minister; "
        "minister for; ministerial; home office; foreign office; cabinet office; cabinet "
        "secretary; deputy prime minister; health secretary; education secretary; culture "
        "secretary; trade secretary; industry secretary; transport secretary; environment "
        "secretary; defence secretary; pensions secretary; work and pensions secretary; "
        "northern ireland secretary; international development secretary; constitutional "
        "affairs secretary; health minister; education minister; culture minister; sports "
        "minister; environment minister; trade minister; industry minister; transport "
        "minister; employment minister; pensions minister; immigration minister; home office "
        "minister; defence minister; energy minister; agriculture minister; tourism minister; "
        "e-commerce minister; technology minister; science minister; media minister; shadow "
        "chancellor; shadow home secretary; shadow foreign secretary; shadow cabinet; shadow "
        "health secretary; shadow education secretary; shadow culture secretary; frontbench; "
        "frontbencher; chief whip; commons vote; free vote; select committee; public accounts "
        "committee; committee of mps; cross-party; all-party; tory leader; tory party; tory "
        "mp; labour mp; labour leader; labour government; labour peer; labour backbencher; "
        "new labour; lib dem leader; snp; ukip; plaid cymru; green party; sinn fein; scottish "
        "parliament; welsh assembly; holyrood; stormont; msp; assembly member; first "
        "minister; devolution; devolved; prime minister's questions; government spokesman; "
        "tory spokesman; lib dem spokesman; labour spokesman; party spokesman; home affairs "
        "spokesman; health spokesman; education spokesman; health policy; education policy; "
        "crime bill; education bill; health bill; draft bill; government bill; private "
        "member's bill; royal assent; second reading; lobbying; lobbyists; pressure group; "
        "cabinet reshuffle; reshuffle; spin doctor; sleaze; u-turn; local elections; local "
        "government; councillor; council leader; freedom of information; eu constitution; eu "
        "referendum; eurosceptic; pro-european; europe minister; prime ministerial;"
    ),
    "medtop:20000621": (
        "policy; reform; proposals; white paper; green paper; public services; spending "
        "plans; tax cuts; council tax; immigration policy; asylum policy; government plans; "
        "government proposals; government spending; government funding; government targets; "
        "government review; consultation paper; policy document; public sector; civil "
        "service; quango; nanny state; identity cards; anti-terror laws; terror laws; new "
        "law; law change; change the law; changes to the law; draft law; proposed law; "
        "emergency laws; public inquiry; parliamentary inquiry;"
    ),
    "medtop:20000638": (
        "diplomacy; diplomatic; diplomats; foreign policy; ambassador; embassy; summit; "
        "bilateral; sanctions; united nations; un; nato; european union; eu; g8; treaty;"
    ),
    "medtop:20000646": (
        "non-governmental organisation; ngo; charity; campaign group; pressure group; amnesty "
        "international; greenpeace; oxfam;"
    ),
    "medtop:20000648": ("dissident; political prisoner; detained without trial;"),
    "medtop:20000657": ("religion; christianity; islam; judaism; hinduism; buddhism; atheism;"),
    "medtop:20000688": ("sectarian; sectarian violence; religious violence;"),
    "medtop:20000690": ("ramadan; eid; diwali; hanukkah; passover;"),
    "medtop:20000696": ("prayer; worship; pilgrimage; baptism;"),
    "medtop:20000697": ("church; mosque; synagogue; temple; cathedral;"),
    "medtop:20000702": ("religious freedom; secularism; blasphemy law;"),
    "medtop:20000703": ("pope; archbishop; bishop; imam; rabbi; cardinal; cleric; priest;"),
    "medtop:20000705": ("bible; koran; quran; torah;"),
    "medtop:20000710": ("biomedical; stem cell; cloning; genetics; genome; dna; biotechnology;"),
    "medtop:20000715": ("mathematician; mathematical; algorithm;"),
    "medtop:20000717": (
        "physics; chemistry; biology; astronomy; geology; space; planet; mars; moon; nasa; "
        "esa; spacecraft; probe; telescope; galaxy; stars and planets;"
    ),
    "medtop:20000735": ("research; researchers; scientists; study; experiment; findings; journal;"),
    "medtop:20000741": ("research institute; laboratory; royal society; academy of sciences;"),
    "medtop:20000742": ("sociology; psychology; economics research; anthropology;"),
    "medtop:20000755": ("standards body; measurement standard; metrology;"),
    "medtop:20000756": (
        "technology; hi-tech; high-tech; computer; pc; pcs; laptop; software; hardware; chip; "
        "processor; microsoft; apple; google; ibm; intel; sony; nokia; mobile phone; mobiles; "
        "phone; handset; gadget; broadband; internet; web; website; online; e-mail; email; "
        "blog; bloggers; search engine; browser; firefox; linux; open source; operating "
        "system; spam; spammers; phishing; hackers; security firm; file-sharing; "
        "peer-to-peer; download; digital; digital music; ipod; itunes; mp3; dvd; "
        "high-definition; console; playstation; xbox; nintendo; games console; video game; "
        "gamers; games industry; 3g; wi-fi; wireless; bluetooth; network; users; net users; "
        "technology firm; tech firm; telecoms; texting; text messages; camera phone; digital "
        "camera; robot; engineering; innovation; computer virus; anti-virus; computer game; "
        "games maker; games developer; games publisher; online game; multiplayer; virtual "
        "world; handheld; handheld console; portable console; gameboy; digital tv; digital "
        "television; digital radio; set-top box; personal video recorder; pvr; on-demand; "
        "video-on-demand; hdtv; high-definition tv; flat screen; plasma screen; lcd; mobile "
        "operator; mobile network; mobile phone operator; sms; ringtone; pda; handheld "
        "computer; microchip; nanotechnology; biometric; rfid; malware; spyware; adware; "
        "hacking; computer security; security flaw; software update; security update; "
        "podcast; wiki; source code; programmer; programming; domain name; dotcom; "
        "e-commerce; music piracy; online piracy; file-swapping; digital rights management; "
        "drm; mp3 player; music player; digital media; media player; wimax; hotspot; voip; "
        "internet telephony; net phone; skype; broadband connection; dial-up; isp; internet "
        "service provider; web browser; internet explorer; computer users; computer science; "
        "supercomputer; server; data centre; database; gigabyte; megabyte; terabyte; "
        "microprocessor; telecommunications; virtual reality; 3d; touchscreen; touch screen; "
        "consumer electronics; electronics; electronics firm; electronics giant; junk mail; "
        "junk e-mail; inbox; internet users; web users; web page; web address; search giant; "
        "net firm; internet firm; technology company; gadget fans; gameplay; graphics; "
        "graphics card; game designer; game design; joystick; arcade; first-person shooter; "
        "role-playing game; online role-playing; mmorpg; sega; electronic arts; nintendo ds; "
        "sony psp; psp; video games industry; games market; digital video recorder; video "
        "recorder; hard drive; hard disk; interactive tv; interactive television; interactive "
        "services; mobile tv; internet tv; web tv; internet radio; web radio; online radio; "
        "online music; music downloads; download service; online music store; online store; "
        "net radio; digital download; tech; technological; cutting-edge;"
    ),
    "medtop:20000768": ("local community; neighbourhood;"),
    "medtop:20000770": ("population; census; birth rate; ageing population; life expectancy;"),
    "medtop:20000771": (
        "immigrants; migrants; asylum; asylum seekers; illegal immigrants; border controls; "
        "visas; work permits;"
    ),
    "medtop:20000772": ("emigrants; brain drain; expatriates;"),
    "medtop:20000775": ("racism; racist; sexism; homophobia; prejudice; equal rights;"),
    "medtop:20000780": ("marriage; divorce; childcare; adoption;"),
    "medtop:20000788": ("young people; elderly; ethnic minorities; teenagers;"),
    "medtop:20000799": ("poverty; homelessness; inequality; deprivation; slums;"),
    "medtop:20000802": (
        "anti-social behaviour; addiction; drug abuse; alcoholism; gambling; teenage pregnancy;"
    ),
    "medtop:20000808": ("morality; ethics; ethical;"),
    "medtop:20000817": (
        "benefits; social security; welfare state; child benefit; tax credits; social services;"
    ),
    "medtop:20000822": (
        "football; soccer; rugby; rugby union; rugby league; cricket; tennis; golf; "
        "athletics; boxing; snooker; cycling; swimming; horse racing; motor racing; formula "
        "one; basketball; baseball; ice hockey; sailing; rowing; skiing; marathon; sprint; "
        "sprinter; hurdles; relay; cross-country; triathlon; darts; squash; badminton;"
    ),
    "medtop:20001103": (
        "suspension; suspended; banned for; ban; fined; red card; disciplinary hearing; "
        "misconduct charge; touchline ban;"
    ),
    "medtop:20001104": (
        "doping; drugs test; failed a drugs test; steroids; thg; epo; wada; anti-doping; "
        "banned substance;"
    ),
    "medtop:20001108": (
        "match; game; tournament; championship; final; semi-final; quarter-final; fixture; "
        "derby; olympics; olympic games; world cup; six nations; grand slam; australian open; "
        "us open; french open; wimbledon; world championships; grand prix; race; league; "
        "premiership; premier league; champions league; fa cup; uefa cup; heineken cup; tour "
        "de france; ryder cup; test match; test series;"
    ),
    "medtop:20001124": ("sponsorship; broadcasting rights; tv rights; kit deal;"),
    "medtop:20001125": (
        "fifa; uefa; ioc; fa; football association; rfu; iaaf; lta; club; team; squad; "
        "national team;"
    ),
    "medtop:20001126": (
        "stadium; arena; pitch; circuit; wembley; twickenham; anfield; old trafford; lord's;"
    ),
    "medtop:20001128": ("forecasters; met office;"),
    "medtop:20001129": (
        "rain; snow; storm; wind; heatwave; fog; frost; hail; thunderstorm; tornado;"
    ),
    "medtop:20001130": ("temperatures; rainfall; hottest; coldest; wettest; record temperature;"),
    "medtop:20001131": ("severe weather warning; flood warning; weather alert; storm warning;"),
    "medtop:20001148": (
        "transfer; transfer fee; signing; loan deal; contract; new contract; free transfer; "
        "transfer window; bid for;"
    ),
    "medtop:20001216": ("apprenticeships; vocational training;"),
    "medtop:20001217": ("grades; league tables; grade inflation;"),
    "medtop:20001237": ("commemoration; centenary;"),
    "medtop:20001238": ("turned 100;"),
    "medtop:20001301": (
        "victory; beat; beaten; defeat; title; champion; gold medal; silver medal; bronze "
        "medal; medal; unbeaten; winner; trophy; cup; crown; seeded; top seed; qualify; "
        "qualifier; promoted; relegated;"
    ),
    "medtop:20001323": (
        "coach; manager; head coach; training; trainer; fitness; injury; injured; hamstring; "
        "ankle; knee; groin; squad; selection; captain; skipper;"
    ),
    "medtop:20001324": (
        "club owner; chairman of the club; takeover of the club; board of directors;"
    ),
    "medtop:20001325": (
        "referee; umpire; linesman; officials; penalty decision; var; video replay;"
    ),
    "medtop:20001337": ("e-learning; distance learning; online courses;"),
    "medtop:20001339": ("wellbeing; mental health; healthy eating;"),
    "medtop:20001358": (
        "health officials; public health warning; smoking ban; smoking; alcohol; binge drinking;"
    ),
    "medtop:20001361": (
        "cyberwarfare; state-sponsored hackers; cyber attack; cyberattack; cyber espionage;"
    ),
    "medtop:20001373": ("diversity; inclusion; equality; equal opportunities;"),
    "medtop:20001374": (
        "renewable energy; wind power; wind farm; solar power; recycling; green energy; "
        "sustainable;"
    ),
    "medtop:20001377": (
        "civilian casualties; civilians killed; displaced; refugees; war dead; war widows; wounded;"
    ),
}


# Context terms: ambiguous words that count for a topic (and the topics above it)
# only when the topic also has one of its plain terms in the article: "team",
# "signing" and "officials" are sport only beside "football" or "striker";
# "forces" is war only beside "troops" or "airstrike"; "student" is education only
# beside "school" or "teachers". A listed word that is among the topic's terms
# moves from ``terms`` to ``context_terms``; one that is not is added there.
CONTEXT: dict[str, str] = {
    "medtop:01000000": """
        art; festival; culture; cultural; media; heritage; band; novel; journalism;
        journalist; newspaper; magazine; broadcaster; broadcasting; publisher;
        publishing; television; press freedom; documentary; sequel; premiere; musical;
        entertainment; episodes; release date; starring; star; author of
    """,
    "medtop:02000000": """
        law; legal; justice; lawyer; investigation into; investigators; judge; trial;
        custody; execution; assault; detective; gang; attorney; shooting; police station
    """,
    "medtop:03000000": """
        emergency; rescue; injured; damage; displaced; survivors; buried; trapped;
        blast; explosion; debris; casualties; humanitarian aid; red cross; collision;
        missing people; rubble
    """,
    "medtop:04000000": """
        prices; markets; investment; dollar; euro; yen; company; sales; industry;
        treasury; trade; business; corporate; retail; finance; financial; bank; ports;
        shipping; debt; revenue
    """,
    "medtop:05000000": """
        student; graduate; graduation; professor; academic; lecturer; university;
        college; campus; semester; scholarship; grades; exam; examination; admissions;
        literacy; dropout; phd; doctorate; apprenticeship; vocational training;
        educational; teaching; education minister; education secretary
    """,
    "medtop:06000000": """
        forest; ocean; sustainable; electric vehicles; national park; coal; habitat;
        conservation; wildlife; climate
    """,
    "medtop:07000000": """
        drug; hospital; doctor; medical; medicine; medication; treatment; therapy; dose;
        jab; booster; virus; depression; ambulance; symptoms; patient; infected
    """,
    "medtop:08000000": """
        celebrity; royal family; royal; prince; princess; duke; duchess; king; queen;
        wedding; married; engagement; birthday; anniversary; award; prize; honoured;
        honored; ceremony; hero; heroic; reunion; pet; dog; cat; puppy; kitten; zoo;
        panda; lottery; donation; fundraiser; miracle; tribute; funeral; memorial;
        remembrance; influencer; fans gathered; autograph; red carpet; record attempt;
        world record; record-breaking; kindness; animal lovers; survivor story
    """,
    "medtop:09000000": """
        employee; hiring; recruitment; salary; pension; retirement; retirees; workplace;
        overtime; apprenticeship; unions; jobs; workforce; employment; employer
    """,
    "medtop:10000000": """
        food; travel; holiday; hotel; destination; restaurant; diet; beauty; shopping;
        luxury; wine; beer; coffee; dating; relationships; parenting; pets; tourism;
        tourist; vacation; cruise; fitness; wellness; wellbeing; spa; leisure;
        lifestyle; clothing; fashion; resort; hobby; puzzle
    """,
    "medtop:11000000": """
        vote; resolution; democratic; regime; reforms; delegation; delegates; summit;
        candidate; opposition; administration; cabinet; caretaker; president;
        presidential; governing; sanctions; democracy; sovereign; sovereignty;
        constitutional; republican; democrat; chancellor
    """,
    "medtop:12000000": """
        holy; faith; faithful; christmas; easter; spiritual; secular; prayer; worship;
        temple; orthodox church
    """,
    "medtop:13000000": """
        research; researchers; experiment; app; algorithm; innovation; engineering;
        patent; nobel prize; invention; lab; laboratory; mathematics; computing;
        internet; chip; startup founders; automation; hackers;
        satellite data; satellite images; satellite imagery
    """,
    "medtop:14000000": """
        charity; volunteers; ngo; minority; ethnic; racial; elderly; young people;
        marriage; gender; equality; diversity; inclusion; census; benefits claimants;
        adoption; divorce; demographics; welfare; social services
    """,
    "medtop:15000000": """
        match; game; fixture; league; penalty; goal; scored; scorer; captain; coach;
        fans; supporters; stadium; season; lap; podium; medal; squad; standings;
        victory over; championship; tournament; header; defender; var; arsenal;
        everton; final whistle; points table; manager sacked; world champion;
        midfielder; striker; goalkeeper; referee
    """,
    "medtop:16000000": """
        conflict; forces; security forces; commander; extremist; rocket; weapons; arms;
        ammunition; explosives; occupation; battlefield; battleground; frontline;
        front line; combat; clashes; fighting; withdrawal; pullout; deployment;
        deployed; bases; hostage; casualties; bloodshed; uprising; protests;
        protesters; demonstrators; riot; unrest; civil unrest; coalition; military;
        militant; missile; genocide; massacre
    """,
    "medtop:17000000": """
        temperatures; wind; lightning; freezing; frost; sunshine; sunny; cloudy;
        showers; mist; fog; hail; humidity; gusts; storm; cold weather;
        celsius; fahrenheit; drizzle; degrees celsius
    """,
    # narrower topics
    "medtop:20000002": """
        book; author; festival; dance; pop; rock; drama; chart; band; nominated;
        nominations; nominee; dvd release; composer; conductor; big screen; remake;
        directed by; number one single; top 40; animation; cartoon; starring
    """,
    "medtop:20000038": "language; traditions; literature",
    "medtop:20000045": """
        media; bbc; itv; channel 4; channel 5; sky; cnn; newspaper; tabloid; editor;
        journalist; reporter; magazine; television; tv; tv channel; radio;
        radio station; viewers; ratings; audience; publisher; presenter; broadcast;
        aired; documentary; episode; broadcaster
    """,
    "medtop:20000053": "extremists; terrorism; terrorist",
    "medtop:20000056": """
        war; troops; soldiers; army; military; offensive; fighting; battle; frontline;
        invasion; insurgents; rebels; militia; artillery; shelling; airstrike
    """,
    "medtop:20000065": """
        protest; protesters; demonstration; demonstrators; riot; uprising; crackdown;
        curfew; clashes with police
    """,
    "medtop:20000070": "ousted; overthrow; coup",
    "medtop:20000071": "atrocities",
    "medtop:20000073": "negotiations; mediators",
    "medtop:20000077": "reconstruction; rebuilding; disarmament",
    "medtop:20000082": "killing; victim; shooting; assault; gang; theft; fraud",
    "medtop:20000106": "judge; trial; lawyer; sentenced; guilty; lawsuit; sued",
    "medtop:20000121": "regulations; statute; loophole",
    "medtop:20000129": "officers; raid; investigation; investigators; patrol; custody",
    "medtop:20000139": """
        killed; survivors; explosion; blast; collision; accident; crash; death toll
    """,
    "medtop:20000168": "rescue; evacuation; evacuated; humanitarian aid; aid agencies",
    "medtop:20000170": "results; forecast; outlook; guidance",
    "medtop:20000209": """
        consumer; shops; airline; insurance; steel; mining; tourism; telecoms;
        supermarket; retail; brewer
    """,
    "medtop:20000344": """
        chancellor; budget; growth; currency; dollar; euro; yen; sterling; fiscal;
        public spending; economy; economic
    """,
    "medtop:20000349": """
        company; firm; executive; chairman; board; deal; bid; stake; brand; investment;
        investors; sales; profit; revenue; corporation; turnover; job cuts; layoffs
    """,
    "medtop:20000385": """
        stock; trading; traders; analysts; bonds; barrel; shares; market value;
        savers; valuation
    """,
    "medtop:20000400": "school; pupils; classroom",
    "medtop:20000412": "lessons",
    "medtop:20000413": "exam; examinations",
    "medtop:20000415": "students; graduates; university; college; campus; pupils",
    "medtop:20000416": "teaching; lecturers; academics",
    "medtop:20000441": "species; animals; birds; plants; forest; rainforest",
    "medtop:20000461": "hospital; ward; care home; clinic",
    "medtop:20000464": "treatment; therapy; surgery; vaccine",
    "medtop:20000485": "doctors; medical staff",
    "medtop:20000498": "prize; honoured",
    "medtop:20000499": "oldest; youngest; world record",
    "medtop:20000501": "celebration; wedding; funeral",
    "medtop:20000503": "blunder; gaffe",
    "medtop:20000505": "famous; fame",
    "medtop:20000523": "job market; job creation; vacancies",
    "medtop:20000524": "strike",
    "medtop:20000531": "pension; pensioners",
    "medtop:20000536": "union",
    "medtop:20000565": "fashion; diet; beauty; shopping; food; drink",
    "medtop:20000657": "religion",
    "medtop:20000696": "prayer; worship",
    "medtop:20000697": "temple",
    "medtop:20000715": "algorithm",
    "medtop:20000717": "space; moon; probe; stars and planets; planet",
    "medtop:20000735": "research; researchers; study; findings; journal; experiment",
    "medtop:20000741": "laboratory",
    "medtop:20000756": """
        phone; mobiles; web; website; online; e-mail; email; blog; bloggers; spam;
        apple; google; sony; nokia; microsoft; ibm; intel; gadget; pc; pcs; handset;
        technology; browser; hackers; chip; processor; internet
    """,
    "medtop:20001103": """
        suspension; suspended; banned for; ban; fined; disciplinary hearing;
        misconduct charge
    """,
    "medtop:20001104": "drugs test; steroids",
    "medtop:20001108": """
        match; game; final; race; league; derby; fixture; us open; tournament;
        championship; grand slam; test series
    """,
    "medtop:20001124": "sponsorship; broadcasting rights; tv rights; kit deal",
    "medtop:20001125": "club; team; squad; fa; national team",
    "medtop:20001126": "stadium; arena; pitch; circuit; wembley; lord's",
    "medtop:20001148": "transfer; signing; loan deal; contract; new contract; bid for",
    "medtop:20001301": """
        victory; beat; beaten; defeat; title; champion; winner; trophy; cup; crown;
        seeded; top seed; qualify; qualifier; promoted; relegated; unbeaten; medal;
        gold medal; silver medal; bronze medal
    """,
    "medtop:20001323": """
        coach; manager; head coach; training; trainer; fitness; injury; injured; ankle;
        knee; squad; selection; captain; skipper
    """,
    "medtop:20001324": "board of directors",
    "medtop:20001325": "officials; var; video replay; umpire",
    "medtop:20001339": "wellbeing",
    "medtop:20001358": "alcohol; smoking",
    "medtop:20001361": "cyber attack; cyberattack",
    "medtop:20001373": "diversity; inclusion; equality",
    "medtop:20001374": "sustainable; recycling",
    "medtop:20001377": "displaced; refugees; wounded",
}

# Negative terms: evidence against a topic ("concert" in a story that also says
# "stadium" and "fans"). Each matched one takes from the topic what a plain term
# would add.
NEGATIVE: dict[str, str] = {
    "medtop:15000000": """
        concert; setlist; tour dates; world tour; singer; album; gig; encore; pop star;
        election officials; election results; ceasefire; chip deal; dockworkers;
        ransomware
    """,
    "medtop:16000000": """
        firefighters; blaze; ransomware; gunman; police said; street shooting; drive-by;
        wildfire; hospital systems
    """,
    "medtop:05000000": "murder trial; jury; defendant; sentenced to",
    "medtop:06000000": "factory; car parts; job cuts",
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
    unknown = set(CONTEXT) - {str(c["qcode"]) for c in [*top, *second]}
    if unknown:
        raise SystemExit(f"CONTEXT names topics that are not in the taxonomy: {sorted(unknown)}")
    topics: list[dict[str, object]] = []
    for concept in [*top, *second]:
        qcode, label = str(concept["qcode"]), str(concept["label"])
        if qcode in lexicon:
            terms = lexicon[qcode]
        else:
            terms = distinct_terms([label.lower(), *parse_terms(NARROWER.get(qcode, ""))])
        # A narrower topic's label stays its first plain term.
        context = [t for t in parse_terms(CONTEXT.get(qcode, "")) if t != label.lower()]
        entry: dict[str, object] = {
            "qcode": qcode,
            "label": label,
            "slug": slugify(label),
            "broader": concept["broader"],
            "terms": [t for t in terms if t not in context],
        }
        if context:
            entry["context_terms"] = context
        negative = parse_terms(NEGATIVE.get(qcode, ""))
        if negative:
            entry["negative_terms"] = negative
        topics.append(entry)
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
