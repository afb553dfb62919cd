//! Zenda's people, places and words: names by market (Polish, Czech, German/Austrian,
//! Greek in Greek script, British), towns with street addresses, studio and class names,
//! and the folding and transliteration that turn a name into an email address.

/// A market: share of studios, locale, currency, zones, towns.
pub(crate) struct Market {
    pub(crate) country: &'static str,
    pub(crate) locale: &'static str,
    /// Upper case, as `studios.currency`.
    pub(crate) currency: &'static str,
    pub(crate) weight: u32,
    /// (town, zone, streets)
    pub(crate) towns: &'static [(&'static str, &'static str, &'static [&'static str])],
}

pub(crate) const MARKETS: &[Market] = &[
    Market {
        country: "PL",
        locale: "pl",
        currency: "PLN",
        weight: 45,
        towns: &[
            (
                "Kraków",
                "Europe/Warsaw",
                &[
                    "ul. Krupnicza 14",
                    "ul. Józefa 22",
                    "ul. Długa 41",
                    "ul. Starowiślna 8",
                ],
            ),
            (
                "Warszawa",
                "Europe/Warsaw",
                &["ul. Mokotowska 22", "ul. Hoża 51", "ul. Puławska 112"],
            ),
            (
                "Łódź",
                "Europe/Warsaw",
                &["ul. Piotrkowska 104", "ul. Kilińskiego 7"],
            ),
            (
                "Wrocław",
                "Europe/Warsaw",
                &["ul. Ruska 46", "ul. Świdnicka 19"],
            ),
            (
                "Gdańsk",
                "Europe/Warsaw",
                &["ul. Grunwaldzka 82", "ul. Długa 3"],
            ),
            ("Poznań", "Europe/Warsaw", &["ul. Półwiejska 28"]),
        ],
    },
    Market {
        country: "CZ",
        locale: "cs",
        currency: "CZK",
        weight: 20,
        towns: &[
            (
                "Praha",
                "Europe/Prague",
                &[
                    "Vinohradská 12",
                    "Korunní 48",
                    "Křižíkova 70",
                    "Dělnická 33",
                ],
            ),
            ("Brno", "Europe/Prague", &["Veveří 9", "Údolní 15"]),
            ("Ostrava", "Europe/Prague", &["Nádražní 44"]),
            ("Plzeň", "Europe/Prague", &["Americká 21"]),
        ],
    },
    Market {
        country: "DE",
        locale: "de",
        currency: "EUR",
        weight: 11,
        towns: &[
            (
                "Berlin",
                "Europe/Berlin",
                &["Oranienstraße 5", "Kastanienallee 77", "Bergmannstraße 12"],
            ),
            ("München", "Europe/Berlin", &["Sendlinger Straße 31"]),
            ("Hamburg", "Europe/Berlin", &["Schanzenstraße 18"]),
            ("Köln", "Europe/Berlin", &["Ehrenstraße 40"]),
        ],
    },
    Market {
        country: "AT",
        locale: "de",
        currency: "EUR",
        weight: 4,
        towns: &[
            (
                "Wien",
                "Europe/Vienna",
                &["Neubaugasse 25", "Praterstraße 14"],
            ),
            ("Graz", "Europe/Vienna", &["Annenstraße 9"]),
        ],
    },
    Market {
        country: "GR",
        locale: "en",
        currency: "EUR",
        weight: 10,
        towns: &[
            (
                "Athens",
                "Europe/Athens",
                &["Ermou 45", "Skoufa 12", "Leof. Alexandras 90"],
            ),
            ("Thessaloniki", "Europe/Athens", &["Tsimiski 63"]),
        ],
    },
    Market {
        country: "GB",
        locale: "en",
        currency: "GBP",
        weight: 10,
        towns: &[
            (
                "London",
                "Europe/London",
                &["12 Hackney Road", "48 Brixton Hill", "7 Camden Passage"],
            ),
            ("Manchester", "Europe/London", &["21 Oldham Street"]),
            ("Bristol", "Europe/London", &["3 Stokes Croft"]),
            ("Edinburgh", "Europe/London", &["16 Leith Walk"]),
        ],
    },
];

pub(crate) fn market(country: &str) -> &'static Market {
    MARKETS
        .iter()
        .find(|m| m.country == country)
        .unwrap_or(&MARKETS[0])
}

/// Studio names per locale (the market's own words): (name, category).
pub(crate) fn studio_names(country: &str) -> &'static [(&'static str, &'static str)] {
    match country {
        "PL" => &[
            ("Studio Mantra", "yoga"),
            ("Joga Centrum", "yoga"),
            ("Pilates Loft", "pilates"),
            ("Przestrzeń Ruchu", "yoga"),
            ("Balans Studio", "pilates"),
            ("Om Joga", "yoga"),
            ("Reformer Studio", "pilates"),
            ("Studio Tańca Rytm", "dance"),
            ("Salsa Libre", "dance"),
            ("Mała Baletnica", "kids"),
            ("Joga Nidra", "yoga"),
            ("Szkoła Tańca Flamenco", "dance"),
            ("Ruch i Oddech", "yoga"),
            ("Pracownia Jogi", "yoga"),
            ("Core Pilates", "pilates"),
            ("Akademia Tańca Pas", "dance"),
            ("Joga na Kazimierzu", "yoga"),
            ("Tanecznie", "dance"),
            ("Mały Jogin", "kids"),
        ],
        "CZ" => &[
            ("Jóga Vinohrady", "yoga"),
            ("Pilates Studio Karlín", "pilates"),
            ("Taneční studio Rytmus", "dance"),
            ("Jóga v Parku", "yoga"),
            ("Baletka", "kids"),
            ("Studio Pohyb", "pilates"),
            ("Jógové centrum Ánanda", "yoga"),
            ("Jóga Letná", "yoga"),
            ("Reformer Smíchov", "pilates"),
            ("Tančírna", "dance"),
            ("Dětská jóga Sluníčko", "kids"),
        ],
        "DE" | "AT" => &[
            ("Pilates Loft", "pilates"),
            ("Yogahaus", "yoga"),
            ("Flow Studio", "yoga"),
            ("Tanzschule Taktvoll", "dance"),
            ("Kinderyoga Sonnenschein", "kids"),
            ("Yoga Raum", "yoga"),
            ("Reformer Werk", "pilates"),
            ("Atemraum", "yoga"),
            ("Studio Bewegt", "pilates"),
            ("Salsa Loca", "dance"),
        ],
        "GR" => &[
            ("Yoga Space", "yoga"),
            ("Ρυθμός Dance Studio", "dance"),
            ("Pilates Athens", "pilates"),
            ("Ομ Yoga", "yoga"),
            ("Little Stars Ballet", "kids"),
            ("Ήλιος Yoga", "yoga"),
            ("Core Studio Athens", "pilates"),
        ],
        _ => &[
            ("Yoga Space", "yoga"),
            ("The Pilates Room", "pilates"),
            ("Move Dance Studio", "dance"),
            ("Little Movers", "kids"),
            ("Yoga Collective", "yoga"),
            ("Core & Flow", "pilates"),
            ("Stretch Studio", "pilates"),
            ("Salsa Soho", "dance"),
        ],
    }
}

/// Another display name after a rename.
pub(crate) fn renamed(country: &str, old: &str) -> String {
    match country {
        "PL" => format!("{old} – Joga i Ruch"),
        "CZ" => format!("{old} & Pilates"),
        "DE" | "AT" => format!("{old} & Friends"),
        _ => format!("{old} Studio"),
    }
}

/// The company behind a studio (`legal_name`, the Custom account's business name).
pub(crate) fn legal_name(country: &str, name: &str, owner: &str, x: u64) -> String {
    match (country, x % 3) {
        ("PL", 0) => format!("{owner} {name}"),
        ("PL", _) => format!("{name} sp. z o.o."),
        ("CZ", 0) => owner.to_string(),
        ("CZ", _) => format!("{name} s.r.o."),
        ("DE", 0) | ("AT", 0) => format!("{name} UG (haftungsbeschränkt)"),
        ("DE", _) | ("AT", _) => format!("{name} GmbH"),
        ("GR", 0) => format!("{} Μ.Ι.Κ.Ε.", name.to_uppercase()),
        ("GR", _) => format!("{name} IKE"),
        (_, 0) => format!("{owner} trading as {name}"),
        _ => format!("{name} Ltd"),
    }
}

/// Class types by category and locale: (name, minutes).
pub(crate) fn class_names(category: &str, locale: &str) -> &'static [(&'static str, i64)] {
    match (category, locale) {
        ("yoga", "pl") => &[
            ("Vinyasa Flow", 60),
            ("Hatha Basics", 75),
            ("Joga dla początkujących", 60),
            ("Yin Yoga", 75),
            ("Ashtanga", 90),
            ("Joga w ciąży", 60),
        ],
        ("yoga", "cs") => &[
            ("Vinyasa Flow", 60),
            ("Hatha jóga", 75),
            ("Jóga pro začátečníky", 60),
            ("Jin jóga", 75),
            ("Power jóga", 60),
        ],
        ("yoga", "de") => &[
            ("Vinyasa Flow", 60),
            ("Hatha Yoga", 75),
            ("Yoga für Anfänger", 60),
            ("Yin Yoga", 75),
            ("Rückenyoga", 60),
        ],
        ("yoga", _) => &[
            ("Vinyasa Flow", 60),
            ("Hatha Basics", 75),
            ("Yin Yoga", 75),
            ("Power Yoga", 60),
            ("Yoga for Beginners", 60),
        ],
        ("pilates", "pl") => &[
            ("Pilates Reformer", 50),
            ("Pilates na macie", 55),
            ("Zdrowy kręgosłup", 60),
            ("Pilates Reformer – poziom 2", 50),
        ],
        ("pilates", "cs") => &[
            ("Pilates Reformer", 50),
            ("Pilates na podložce", 55),
            ("Zdravá záda", 60),
        ],
        ("pilates", "de") => &[
            ("Pilates Reformer", 50),
            ("Mattenpilates", 55),
            ("Pilates Intensiv", 60),
        ],
        ("pilates", _) => &[
            ("Pilates Reformer", 50),
            ("Mat Pilates", 55),
            ("Reformer Intermediate", 50),
        ],
        ("dance", "pl") => &[
            ("Salsa – początkujący", 60),
            ("Bachata", 60),
            ("Zumba", 55),
            ("Taniec współczesny", 75),
            ("Hip-hop", 60),
        ],
        ("dance", "cs") => &[
            ("Salsa pro začátečníky", 60),
            ("Zumba", 55),
            ("Moderní tanec", 75),
        ],
        ("dance", "de") => &[
            ("Salsa Anfänger", 60),
            ("Zumba", 55),
            ("Contemporary", 75),
            ("Discofox", 60),
        ],
        ("dance", _) => &[
            ("Salsa Beginners", 60),
            ("Zumba", 55),
            ("Contemporary", 75),
            ("Hip-hop", 60),
        ],
        ("kids", "pl") => &[
            ("Balet dla dzieci 4–6 lat", 45),
            ("Joga dla dzieci", 45),
            ("Taniec dla dzieci 7–9 lat", 45),
        ],
        ("kids", "cs") => &[("Balet pro děti 4–6 let", 45), ("Jóga pro děti", 45)],
        ("kids", "de") => &[
            ("Kinderballett 4–6", 45),
            ("Kinderyoga", 45),
            ("Kindertanz 7–9", 45),
        ],
        ("kids", _) => &[
            ("Baby Ballet 3–5", 45),
            ("Kids Yoga 5–8", 45),
            ("Street Dance 8–11", 45),
        ],
        _ => &[("Vinyasa Flow", 60)],
    }
}

/// A class type's later name (renamed in place).
pub(crate) fn renamed_class(name: &str, locale: &str) -> String {
    match locale {
        "pl" => format!("{name} – wszystkie poziomy"),
        "cs" => format!("{name} – všechny úrovně"),
        "de" => format!("{name} (alle Level)"),
        _ => format!("{name} (all levels)"),
    }
}

/// Why a studio cancelled a session, in the studio's language.
pub(crate) fn cancel_reasons(locale: &str) -> &'static [&'static str] {
    match locale {
        "pl" => &[
            "choroba instruktora",
            "awaria ogrzewania",
            "za mało zapisanych osób",
            "remont sali",
        ],
        "cs" => &[
            "nemoc lektorky",
            "porucha topení",
            "nízký počet přihlášených",
        ],
        "de" => &[
            "Krankheit der Lehrerin",
            "Heizungsausfall",
            "zu wenige Anmeldungen",
        ],
        _ => &[
            "the teacher is ill",
            "a heating failure",
            "too few bookings",
            "building works",
        ],
    }
}

pub(crate) fn substitute_word(locale: &str) -> &'static str {
    match locale {
        "pl" => "zastępstwo",
        "cs" => "záskok",
        "de" => "Vertretung",
        _ => "cover",
    }
}

/// (female given names, male given names, surnames as (male, female)).
pub(crate) struct NameSet {
    pub(crate) female: &'static [&'static str],
    pub(crate) male: &'static [&'static str],
    pub(crate) family: &'static [(&'static str, &'static str)],
    pub(crate) kids: &'static [&'static str],
}

pub(crate) fn names(country: &str) -> NameSet {
    match country {
        "PL" => NameSet {
            female: &[
                "Zofia",
                "Anna",
                "Maria",
                "Katarzyna",
                "Małgorzata",
                "Agnieszka",
                "Magdalena",
                "Joanna",
                "Aleksandra",
                "Natalia",
                "Julia",
                "Karolina",
                "Monika",
                "Ewa",
                "Marta",
                "Weronika",
                "Paulina",
                "Justyna",
                "Dominika",
                "Łucja",
            ],
            male: &[
                "Jan",
                "Piotr",
                "Krzysztof",
                "Tomasz",
                "Paweł",
                "Michał",
                "Łukasz",
                "Marcin",
                "Jakub",
                "Adam",
                "Mateusz",
                "Wojciech",
                "Bartosz",
            ],
            family: &[
                ("Nowak", "Nowak"),
                ("Kowalski", "Kowalska"),
                ("Wiśniewski", "Wiśniewska"),
                ("Wójcik", "Wójcik"),
                ("Kowalczyk", "Kowalczyk"),
                ("Kamiński", "Kamińska"),
                ("Lewandowski", "Lewandowska"),
                ("Zieliński", "Zielińska"),
                ("Szymański", "Szymańska"),
                ("Woźniak", "Woźniak"),
                ("Dąbrowski", "Dąbrowska"),
                ("Kozłowski", "Kozłowska"),
                ("Jankowski", "Jankowska"),
                ("Mazur", "Mazur"),
                ("Kwiatkowski", "Kwiatkowska"),
                ("Krawczyk", "Krawczyk"),
                ("Piotrowski", "Piotrowska"),
                ("Grabowski", "Grabowska"),
                ("Pawłowski", "Pawłowska"),
                ("Michalski", "Michalska"),
                ("Król", "Król"),
                ("Wieczorek", "Wieczorek"),
                ("Jabłoński", "Jabłońska"),
                ("Wróbel", "Wróbel"),
                ("Majewski", "Majewska"),
                ("Stępień", "Stępień"),
                ("Górski", "Górska"),
            ],
            kids: &[
                "Ola", "Zuzia", "Hania", "Lena", "Maja", "Antoś", "Kuba", "Staś", "Franek",
                "Zosia", "Ignacy",
            ],
        },
        "CZ" => NameSet {
            female: &[
                "Šárka",
                "Jana",
                "Eva",
                "Hana",
                "Lucie",
                "Kateřina",
                "Tereza",
                "Petra",
                "Lenka",
                "Veronika",
                "Markéta",
                "Barbora",
                "Klára",
                "Adéla",
                "Zuzana",
            ],
            male: &[
                "Jan", "Jiří", "Petr", "Tomáš", "Lukáš", "Martin", "Jakub", "Ondřej", "Vojtěch",
                "David", "Filip",
            ],
            family: &[
                ("Novák", "Nováková"),
                ("Svoboda", "Svobodová"),
                ("Novotný", "Novotná"),
                ("Dvořák", "Dvořáková"),
                ("Černý", "Černá"),
                ("Procházka", "Procházková"),
                ("Kučera", "Kučerová"),
                ("Veselý", "Veselá"),
                ("Horák", "Horáková"),
                ("Němec", "Němcová"),
                ("Pokorný", "Pokorná"),
                ("Pospíšil", "Pospíšilová"),
                ("Hájek", "Hájková"),
                ("Král", "Králová"),
                ("Jelínek", "Jelínková"),
                ("Růžička", "Růžičková"),
                ("Beneš", "Benešová"),
                ("Fiala", "Fialová"),
                ("Sedláček", "Sedláčková"),
            ],
            kids: &[
                "Eliška", "Anička", "Natálka", "Viktorka", "Matýsek", "Vojta", "Toník", "Ema",
            ],
        },
        "DE" | "AT" => NameSet {
            female: &[
                "Anna",
                "Lena",
                "Laura",
                "Julia",
                "Sarah",
                "Katharina",
                "Lisa",
                "Sophie",
                "Hannah",
                "Marie",
                "Johanna",
                "Clara",
                "Miriam",
                "Franziska",
            ],
            male: &[
                "Jürgen",
                "Thomas",
                "Michael",
                "Andreas",
                "Stefan",
                "Lukas",
                "Felix",
                "Jonas",
                "Maximilian",
                "Tobias",
                "Florian",
            ],
            family: &[
                ("Müller", "Müller"),
                ("Schmidt", "Schmidt"),
                ("Schneider", "Schneider"),
                ("Fischer", "Fischer"),
                ("Weber", "Weber"),
                ("Meyer", "Meyer"),
                ("Wagner", "Wagner"),
                ("Becker", "Becker"),
                ("Schulz", "Schulz"),
                ("Hoffmann", "Hoffmann"),
                ("Schäfer", "Schäfer"),
                ("Koch", "Koch"),
                ("Bauer", "Bauer"),
                ("Richter", "Richter"),
                ("Wolf", "Wolf"),
                ("Schröder", "Schröder"),
                ("Huber", "Huber"),
                ("Gruber", "Gruber"),
                ("Pichler", "Pichler"),
                ("Steiner", "Steiner"),
            ],
            kids: &[
                "Mia", "Emma", "Leni", "Paul", "Ben", "Emil", "Ida", "Theo", "Lotta",
            ],
        },
        "GR" => NameSet {
            female: &[
                "Μαρία",
                "Ελένη",
                "Αικατερίνη",
                "Βασιλική",
                "Σοφία",
                "Γεωργία",
                "Ιωάννα",
                "Δήμητρα",
                "Χριστίνα",
                "Αναστασία",
            ],
            male: &[
                "Γιώργος",
                "Δημήτρης",
                "Νίκος",
                "Γιάννης",
                "Κώστας",
                "Παναγιώτης",
                "Χρήστος",
                "Αλέξανδρος",
                "Θανάσης",
            ],
            family: &[
                ("Παπαδόπουλος", "Παπαδοπούλου"),
                ("Παππάς", "Παππά"),
                ("Οικονόμου", "Οικονόμου"),
                ("Γεωργίου", "Γεωργίου"),
                ("Νικολάου", "Νικολάου"),
                ("Δημητρίου", "Δημητρίου"),
                ("Κωνσταντίνου", "Κωνσταντίνου"),
                ("Ιωάννου", "Ιωάννου"),
                ("Μακρής", "Μακρή"),
                ("Αντωνίου", "Αντωνίου"),
                ("Καραγιάννης", "Καραγιάννη"),
                ("Αθανασίου", "Αθανασίου"),
            ],
            kids: &["Ελένη", "Νεφέλη", "Άννα", "Δανάη", "Στέλιος", "Άγγελος"],
        },
        _ => NameSet {
            female: &[
                "Olivia",
                "Amelia",
                "Isla",
                "Emily",
                "Sophie",
                "Grace",
                "Charlotte",
                "Jessica",
                "Hannah",
                "Lucy",
                "Chloe",
                "Priya",
            ],
            male: &[
                "Oliver", "Harry", "George", "Jack", "James", "Thomas", "William", "Daniel",
                "Arjun",
            ],
            family: &[
                ("Smith", "Smith"),
                ("Jones", "Jones"),
                ("Taylor", "Taylor"),
                ("Brown", "Brown"),
                ("Williams", "Williams"),
                ("Wilson", "Wilson"),
                ("Johnson", "Johnson"),
                ("Davies", "Davies"),
                ("Robinson", "Robinson"),
                ("Wright", "Wright"),
                ("Thompson", "Thompson"),
                ("Evans", "Evans"),
                ("Walker", "Walker"),
                ("Hughes", "Hughes"),
                ("Clarke", "Clarke"),
                ("Patel", "Patel"),
            ],
            kids: &["Freya", "Poppy", "Ava", "Alfie", "Noah", "Isabella", "Leo"],
        },
    }
}

/// Instructors (first names, as the timetable shows them).
pub(crate) fn instructors(country: &str) -> &'static [&'static str] {
    match country {
        "PL" => &["Kasia", "Ola", "Marta", "Bartek", "Magda", "Ania", "Tomek"],
        "CZ" => &["Bára", "Klára", "Honza", "Míša", "Petra"],
        "DE" | "AT" => &["Jana", "Nils", "Steffi", "Mara", "Jonas"],
        "GR" => &["Eleni", "Nikos", "Sofia", "Katerina"],
        _ => &["Becky", "Sam", "Priya", "Tom", "Hattie"],
    }
}

/// Free mail domains of a market.
pub(crate) fn mail_domains(country: &str) -> &'static [&'static str] {
    match country {
        "PL" => &[
            "gmail.com",
            "gmail.com",
            "wp.pl",
            "o2.pl",
            "onet.pl",
            "interia.pl",
            "op.pl",
        ],
        "CZ" => &[
            "seznam.cz",
            "seznam.cz",
            "gmail.com",
            "email.cz",
            "centrum.cz",
        ],
        "DE" => &["gmx.de", "web.de", "gmail.com", "t-online.de", "posteo.de"],
        "AT" => &["gmx.at", "gmail.com", "aon.at"],
        "GR" => &[
            "gmail.com",
            "gmail.com",
            "yahoo.gr",
            "hotmail.com",
            "otenet.gr",
        ],
        _ => &[
            "gmail.com",
            "gmail.com",
            "hotmail.co.uk",
            "outlook.com",
            "btinternet.com",
            "icloud.com",
        ],
    }
}

/// Work domains (a person's "new work address").
pub(crate) const WORK_DOMAINS: &[&str] = &[
    "allegro.pl",
    "cdprojekt.com",
    "skoda-auto.cz",
    "avast.com",
    "zalando.de",
    "sap.com",
    "deloitte.co.uk",
    "ote.gr",
];

/// Greek to Latin letters (ELOT 743 style, simplified), e.g. `Γιώργος` -> `Giorgos`.
pub(crate) fn transliterate(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied().map(base_greek);
        let lower = base_greek(c);
        let up = c.is_uppercase();
        let two = match (lower, next) {
            ('ο', Some('υ')) => Some("ou"),
            ('α', Some('ι')) => Some("ai"),
            ('ε', Some('ι')) => Some("ei"),
            ('ο', Some('ι')) => Some("oi"),
            ('μ', Some('π')) if i == 0 => Some("b"),
            _ => None,
        };
        let (piece, used) = match two {
            Some(p) => (p.to_string(), 2),
            None => (
                match lower {
                    'α' => "a",
                    'β' => "v",
                    'γ' => "g",
                    'δ' => "d",
                    'ε' => "e",
                    'ζ' => "z",
                    'η' => "i",
                    'θ' => "th",
                    'ι' => "i",
                    'κ' => "k",
                    'λ' => "l",
                    'μ' => "m",
                    'ν' => "n",
                    'ξ' => "x",
                    'ο' => "o",
                    'π' => "p",
                    'ρ' => "r",
                    'σ' | 'ς' => "s",
                    'τ' => "t",
                    'υ' => "y",
                    'φ' => "f",
                    'χ' => "ch",
                    'ψ' => "ps",
                    'ω' => "o",
                    _ => {
                        out.push(c);
                        i += 1;
                        continue;
                    }
                }
                .to_string(),
                1,
            ),
        };
        if up {
            let mut cs = piece.chars();
            if let Some(f) = cs.next() {
                out.extend(f.to_uppercase());
                out.push_str(cs.as_str());
            }
        } else {
            out.push_str(&piece);
        }
        i += used;
    }
    out
}

/// A Greek letter without its accent, lower case.
fn base_greek(c: char) -> char {
    let l = c.to_lowercase().next().unwrap_or(c);
    match l {
        'ά' => 'α',
        'έ' => 'ε',
        'ή' => 'η',
        'ί' | 'ϊ' | 'ΐ' => 'ι',
        'ό' => 'ο',
        'ύ' | 'ϋ' | 'ΰ' => 'υ',
        'ώ' => 'ω',
        x => x,
    }
}

/// Does the text hold Greek letters?
pub(crate) fn is_greek(s: &str) -> bool {
    s.chars().any(|c| ('\u{370}'..='\u{3ff}').contains(&c))
}

/// A name without its diacritics, case kept (`Šárka Dvořáková` -> `Sarka Dvorakova`,
/// `Łukasz` -> `Lukasz`).
pub(crate) fn strip_diacritics(s: &str) -> String {
    s.chars()
        .map(|c| {
            let f = fold_char(c);
            if f.is_empty() {
                c.to_string()
            } else if c.is_uppercase() {
                let mut u = f.to_uppercase();
                if f.len() > 1 {
                    u = format!("{}{}", &u[..1], &f[1..]);
                }
                u
            } else {
                f.to_string()
            }
        })
        .collect()
}

fn fold_char(c: char) -> &'static str {
    match c.to_lowercase().next().unwrap_or(c) {
        'ą' | 'á' | 'ä' | 'à' | 'â' => "a",
        'ć' | 'č' | 'ç' => "c",
        'ď' => "d",
        'ę' | 'é' | 'ě' | 'è' | 'ê' | 'ë' => "e",
        'í' | 'ì' | 'î' | 'ï' => "i",
        'ł' => "l",
        'ń' | 'ň' | 'ñ' => "n",
        'ó' | 'ö' | 'ô' | 'ò' => "o",
        'ř' => "r",
        'ś' | 'š' => "s",
        'ß' => "ss",
        'ť' => "t",
        'ú' | 'ů' | 'ü' | 'ù' | 'û' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => "",
    }
}

/// A name folded to what an email address or a slug would use: lower-case ASCII letters
/// and digits, Greek transliterated, everything else dropped.
pub(crate) fn fold(s: &str) -> String {
    let s = if is_greek(s) {
        transliterate(s)
    } else {
        s.to_string()
    };
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push_str(fold_char(c));
        }
    }
    out
}

/// `Studio Mantra Kraków` -> `studio-mantra-krakow`.
pub(crate) fn slugify(s: &str) -> String {
    let s = if is_greek(s) {
        transliterate(s)
    } else {
        s.to_string()
    };
    let mut out = String::new();
    let mut sep = false;
    for c in s.chars() {
        let f = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase().to_string()
        } else {
            fold_char(c).to_string()
        };
        if f.is_empty() {
            sep = !out.is_empty();
        } else {
            if sep {
                out.push('-');
                sep = false;
            }
            out.push_str(&f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_and_transliteration() {
        assert_eq!(
            transliterate("Γιώργος Παπαδόπουλος"),
            "Giorgos Papadopoulos"
        );
        assert_eq!(transliterate("Αικατερίνη"), "Aikaterini");
        assert_eq!(strip_diacritics("Šárka Dvořáková"), "Sarka Dvorakova");
        assert_eq!(strip_diacritics("Łukasz"), "Lukasz");
        assert_eq!(slugify("Studio Mantra Kraków"), "studio-mantra-krakow");
        assert_eq!(slugify("Joga Centrum Łódź"), "joga-centrum-lodz");
        assert_eq!(fold("Jürgen"), "jurgen");
        assert_eq!(fold("Νίκος"), "nikos");
    }
}
