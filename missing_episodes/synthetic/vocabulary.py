"""The synthetic feeds' fixed words: the contracts' columns, the fictional authority, and fake names and places.

Fake names only; a few test escaping and Unicode (an apostrophe, accents, Greek, Polish, Vietnamese) in every
report and letter that prints them.
"""

from __future__ import annotations

# The police feed's columns, in order, are the contract's (re-exported: every writer takes its columns from here).
from missing_episodes import feeds

#: The columns the synthetic police force sends: the contract without the columns a force may leave out.
NOTIFICATION_FIELDS = tuple(f for f in feeds.NOTIFICATION_FIELDS if f not in feeds.OPTIONAL_NOTIFICATION_FIELDS)

CHILD_FIELDS = (
    "child_id",
    "first_name",
    "last_name",
    "date_of_birth",
    "legal_status",
    "uasc",
    "responsible_authority",
    "allocated_worker",
    "team",
    "placement_distance_miles",
    "placement",
    "photo_ref",
    "contacts",
    "likely_locations",
    "phone",
    "return_address",
)
OUTCOME_FIELDS = ("event_id", "recorded_at", "child_id", "incident_ref", "event", "by", "rationale", "notes", "who",
                  "contact")
ROSTER_FIELDS = ("worker", "team", "capacity")

AUTHORITY = "Kingsbridge"
OTHER_AUTHORITIES = ("Northfield", "Eastbrook", "Westmere", "Southholm", "Ashcombe")
FORCE = "KBP"  # Kingsbridge & District Police: the prefix of every incident reference and message id

#: Return Interview Team: fake workers, each with how many open interviews they can hold.
ROSTER: tuple[tuple[str, str, int], ...] = (
    ("Priya Sandhu", "Return Interview Team", 8),
    ("Callum Reid", "Return Interview Team", 6),
    ("Joanne Whitfield", "Return Interview Team", 10),
    ("Marek Nowak", "Return Interview Team", 7),
    ("Grace Okafor", "Return Interview Team", 9),
)

FIRST_NAMES = (
    "Aaliyah", "Aiden", "Amelia", "Archie", "Ava", "Bailey", "Brandon", "Caleb", "Chloe", "Connor", "Daisy",
    "Demi", "Ella", "Ethan", "Evie", "Freya", "Harley", "Isla", "Jamal", "Jayden", "Jessica", "Kacper", "Kai",
    "Kayden", "Keira", "Kofi", "Leah", "Leon", "Lily", "Logan", "Maisie", "Mason", "Mia", "Nathan", "Olivia",
    "Oscar", "Paige", "Precious", "Reece", "Renée", "Riley", "Ruby", "Ryan", "Shanice", "Sienna", "Siobhán",
    "Tyler", "Yasmin", "Zoë", "Łukasz", "Σοφία", "Ayşe", "Thanh", "Minh",
)  # fmt: skip
LAST_NAMES = (
    "Ashworth", "Barker", "Begum", "Bennett", "Brennan", "Carter", "Clarke", "Dawson", "Doyle", "Dunn", "Ellis",
    "Fenwick", "Fletcher", "Foster", "Gallagher", "Garside", "Hart", "Hayes", "Holt", "Hughes", "Hussain",
    "Jarvis", "Kaur", "Kowalczyk", "Lambert", "Lloyd", "Marsh", "Mensah", "Moss", "Nguyễn", "Nowak", "O'Brien",
    "O'Connor", "Okafor", "Osei", "Parry", "Pearce", "Price", "Quinn", "Reid", "Rowe", "Shaw", "Stone",
    "Thornton", "Underwood", "Vaughan", "Walsh", "Webb", "Whitaker", "Yilmaz", "Παπαδάκη",
)  # fmt: skip
UASC_FIRST = ("Dawit", "Ahmad", "Mohamed", "Rahim", "Tariq", "Amir", "Yonas", "Samir")
UASC_LAST = ("Tesfaye", "Rahimi", "Haile", "Ahmadi", "Osman", "Karimi", "Berhane")

SOCIAL_WORKERS = (
    "Sam Whitfield", "Nadia Hussain", "Gareth Lloyd", "Becky Barnes", "Olu Adeyemi", "Kirsty Fenwick",
    "Imran Malik", "Hannah Price",
)  # fmt: skip
TEAM_MANAGERS = ("Helen Brooks", "Marcus Dunn", "Ruth Ashby")
PERSONAL_ADVISERS = ("Jo Barker", "Aisha Rahman")
COORDINATOR = "Leanne Garside"
TEAMS = {
    "looked_after": ("Children in Care Team 1", "Children in Care Team 2", "Children in Care Team 3"),
    "child_in_need": ("Safeguarding & Family Support",),
    "child_protection": ("Safeguarding & Family Support",),
    "care_leaver": ("Leaving Care Service",),
    "none": ("Early Help",),
}

PLACES = (
    "Kingsbridge bus station", "Riverside Park", "Market Street, outside the chicken shop", "Mill Lane",
    "Kingsbridge Retail Park", "Kingsbridge railway station", "St Anne's Academy gates", "canal towpath by Lock 7",
    "Victoria Road flats", "Westmere city centre", "Northfield skate park", "Eastbrook shopping centre",
)  # fmt: skip
FOUND_FORMS = (
    "Returned to placement of own accord",
    "Found by police at {place}",
    "Collected by carer from {place}",
    "Handed in at Kingsbridge police station",
    "Located at friend's address & returned by police",
    "Found by police at {place}; taken home",
)
CLOTHING = (
    "black puffer jacket, grey joggers, white trainers",
    "school uniform (navy blazer, grey trousers)",
    "red hoodie, blue jeans, black trainers",
    'green parka, black leggings, "Nike" bag',
    "grey tracksuit, black cap",
    "pink coat, denim skirt, white trainers",
)
NOTES = (
    "seen with friends & cousin",
    "Believed to be with older males; possible exploitation concerns",
    'Told carer she was "going to the shop", did not return',
    "Phone switched off; known to travel to Westmere",
    "Left after an argument at placement",
    "Did not return from school; last seen at the bus stop",
    "Known associates checked, no trace",
)
UPDATE_NOTES = (
    "Possible sighting at {place}",
    "Phone briefly on near {place}",
    "Enquiries continue; associates visited",
    "Seen getting into a car with older males",
    "Social media activity overnight",
    "Friend reports he is staying with a cousin & safe",
)
RHI_NOTES = (
    "Push factors: conflict with other young people at placement",
    "Pull factors: friends in Westmere; no disclosures of exploitation",
    "Spent the night at a friend's; information shared with police",
    "Discussed safety plan & Find Me plan with young person",
)
DECLINE_RATIONALE = (
    "Young person declined interview; offered again by phone & text",
    "Declined; spoke briefly with carer present",
    "Declined to engage; advocacy service offered",
)
LATE_RATIONALE = (
    "Young person not available until day 5",
    "Placement out of area; virtual interview arranged after 72 hours",
    "Young person unwell; interview rescheduled",
)
NOT_REQUIRED_RATIONALE = (
    "Strategy discussion held recently covers the current pattern; no new risk",
    "Returned within hours; MACE plan reviewed this week instead",
    "Pattern known; Find Me plan updated; team manager agreed no meeting needed",
)
STREETS = ("Elm Road", "Canal Street", "Mill Lane", "Victoria Road", "Church Walk", "Station Approach")
PLACEMENTS_NEAR = (
    "Residential: Oakfield House, Kingsbridge",
    "Foster carers, Kingsbridge",
    "Foster carers (agency), Kingsbridge",
    "Semi-independent: Canal Street Project",
)
PLACEMENTS_FAR = (
    "Residential: The Willows, Eastbrook (out of area)",
    "Foster carers (agency), Westmere (out of area)",
    "Residential: Moorside Lodge, Highcliff (out of area)",
)

RISK_LEVELS = ("high", "medium", "low", "no_apparent_risk")
RISK_CUMULATIVE = (0.10, 0.65, 0.95)  # a new missing report: 10% high, 55% medium, 30% low, 5% no apparent risk
LEGAL_STATUSES = ("looked_after", "child_in_need", "child_protection", "care_leaver", "none")
