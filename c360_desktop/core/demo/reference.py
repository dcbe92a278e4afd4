"""Reference lists for the demo dataset: extra names, streets, trades, products, campaigns, texts.

The bundled jamaican_names.csv holds the most common surnames and recent baby names; adult
customers also carry the given names common in their generation, listed here (synthetic data only).
"""

from __future__ import annotations

EXTRA_FEMALE = (
    "Kimberly", "Tanya", "Shanique", "Sashana", "Kerry-Ann", "Nadine", "Simone", "Marcia",
    "Paulette", "Sandra", "Andrea", "Sophia", "Tamara", "Keisha", "Camille", "Natalie", "Monique",
    "Jodi-Ann", "Patrice", "Donna", "Claudette", "Yvonne", "Beverley", "Judith", "Patricia",
    "Elizabeth", "Samantha", "Jennifer", "Alexandra", "Shantel", "Tashana", "Latoya", "Stacy-Ann",
    "Carlene", "Marsha", "Nicole", "Karen", "Michelle", "Sharon", "Janice", "Pauline", "Charmaine",
)
EXTRA_MALE = (
    "Andre", "Marlon", "Dwayne", "Omar", "Garfield", "Delroy", "Winston", "Everton", "Leroy",
    "Clive", "Kevin", "Michael", "Christopher", "Andrew", "Mark", "Paul", "Richard", "Robert",
    "David", "Damion", "Kemar", "Shane", "Romario", "Nicholas", "Anthony", "Jonathan", "William",
    "Devon", "Oneil", "Kirk", "Carlton", "Desmond", "Fitzroy", "Horace", "Lloyd", "Neville",
    "Orville", "Ricardo", "Sean", "Tyrone", "Wayne", "Jermaine", "Rohan", "Courtney", "Dalton",
)
EXTRA_SURNAMES = (
    "Francis", "Henry", "Palmer", "Walker", "Bailey", "Hall", "Allen", "Thomas", "Edwards",
    "Richards", "Powell", "Gayle", "Bennett", "Samuels", "Wright", "Forbes", "Barrett", "Spence",
    "Lindo", "Chin", "Chen", "Mahfood", "Hylton", "Ellis", "Dixon", "Lawrence", "Bryan", "Morris",
    "Scott", "Hamilton", "Shaw", "Ricketts", "Nelson", "Harris", "O'Connor", "Fong-Yee",
    "Brissett", "Nembhard", "Facey", "Beckford", "Wint", "Tulloch", "Blake", "Daley", "Pinnock",
    "Rowe", "Salmon", "Thompson-Green", "McLean", "Bogle",
)
NICKNAMES = {
    "Robert": "Bob", "William": "Bill", "Michael": "Mike", "Christopher": "Chris",
    "Andrew": "Andy", "Nicholas": "Nick", "Patricia": "Pat", "Kimberly": "Kim",
    "Jennifer": "Jen", "Richard": "Rick", "Anthony": "Tony", "Joshua": "Josh", "Daniel": "Dan",
    "Nathaniel": "Nate", "Jonathan": "Jon", "Elizabeth": "Liz", "Samantha": "Sam",
    "Gabrielle": "Gabby", "Abigail": "Abby", "Alexandra": "Alex", "Nathan": "Nate",
    "Jayden": "Jay", "Malachi": "Kai", "Savannah": "Anna", "Brianna": "Bri", "Jordan": "Jordy",
    "Ricardo": "Ricky", "Sandra": "Sandy", "Beverley": "Bev", "Judith": "Judy",
}
STREETS = (
    "Main Street", "Church Street", "King Street", "Queen Street", "Market Street",
    "Orange Street", "Hope Road", "Old Hope Road", "Constant Spring Road", "Red Hills Road",
    "Lady Musgrave Road", "Molynes Road", "Hagley Park Road", "Spanish Town Road",
    "Mandela Highway", "Windward Road", "Barbican Road", "Manor Park Road", "Gloucester Avenue",
    "Barnett Street", "Caledonia Road", "Park Crescent", "Hargreaves Avenue", "West Street",
    "Harbour Street", "Brunswick Street", "Bustamante Highway", "Sligoville Road",
    "Top Road", "Bottom Road", "Station Road", "Mountain View Avenue", "Washington Boulevard",
    "Paddington Terrace", "Half Moon Bay Road", "Coke Drive", "Waltham Park Road",
)
TRADES = (
    ("Hardware", "hardware"), ("Pharmacy", "pharmacy"), ("Supermarket", "grocery"),
    ("Auto Parts", "auto"), ("Wholesale", "wholesale"), ("Bakery", "food"),
    ("Restaurant", "food"), ("Beauty Supplies", "beauty"), ("Construction", "construction"),
    ("Electrical Supplies", "electrical"), ("Farm Supplies", "agriculture"),
    ("Jerk Centre", "food"), ("Cook Shop", "food"), ("Grocery", "grocery"),
    ("Furniture", "furniture"), ("Office Supplies", "office"), ("Plumbing", "construction"),
)
BUSINESS_WORDS = (
    "Island", "Blue Mountain", "Caribbean", "Irie", "Sunrise", "Royal", "Blue Mahoe",
    "Lignum Vitae", "Doctor Bird", "Coral", "Yaad", "Pimento", "Ackee Tree", "Cornerstone",
    "Sunshine", "Mountain View", "Harbour", "Seaview", "Tropical", "Victory",
)
BUSINESS_SUFFIXES = ("Ltd", "Limited", "Co.", "& Sons Ltd", "Enterprises", "Company Limited", "")
EMAIL_DOMAINS = (("gmail.com", 0.5), ("yahoo.com", 0.2), ("hotmail.com", 0.15),
                 ("outlook.com", 0.08), ("icloud.com", 0.07))
# (sku, name, category, unit price JMD, GCT applies)
PRODUCTS = (
    ("HW-CEM-42", "Portland cement 42.5 kg bag", "hardware", 1650, True),
    ("HW-STL-12", "Steel rebar 12 mm x 6 m", "hardware", 2350, True),
    ("HW-PNT-5G", "Exterior paint 5 gal", "hardware", 14500, True),
    ("HW-ZNC-10", "Zinc sheet 10 ft", "hardware", 4200, True),
    ("HW-PVC-4", "PVC pipe 4 in x 20 ft", "hardware", 3800, True),
    ("EL-WIRE-12", "Electrical wire 12 AWG 100 m", "electrical", 9800, True),
    ("EL-LED-9", "LED bulb 9 W (10 pack)", "electrical", 3200, True),
    ("EL-SOL-400", "Solar panel 400 W", "electrical", 68000, True),
    ("AP-FRG-18", "Refrigerator 18 cu ft", "appliances", 165000, True),
    ("AP-WSH-15", "Washing machine 15 kg", "appliances", 118000, True),
    ("AP-FAN-16", "Standing fan 16 in", "appliances", 8900, True),
    ("AP-AC-12K", "Split air conditioner 12,000 BTU", "appliances", 135000, True),
    ("FD-RCE-50", "Rice 50 lb bag", "food", 9500, False),
    ("FD-FLR-50", "Flour 50 lb bag", "food", 8200, False),
    ("FD-OIL-5G", "Cooking oil 5 gal", "food", 12600, True),
    ("FD-SUG-50", "Brown sugar 50 lb bag", "food", 7800, False),
    ("FD-CHK-40", "Chicken quarters 40 lb case", "food", 16500, False),
    ("FD-JRK-12", "Jerk seasoning (case of 12)", "food", 6600, True),
    ("OF-PPR-10", "Copy paper (10 reams)", "office", 7400, True),
    ("OF-INK-BK", "Printer ink, black", "office", 5200, True),
    ("OF-CHR-EX", "Office chair", "office", 24500, True),
    ("BT-HAIR-6", "Hair care set", "beauty", 4800, True),
    ("BT-NAIL-24", "Nail polish (24 pack)", "beauty", 9600, True),
    ("AU-BAT-70", "Car battery 70 Ah", "auto", 21500, True),
    ("AU-TYR-15", "Tyre 195/65 R15", "auto", 14800, True),
    ("AU-OIL-5L", "Engine oil 5 L", "auto", 6200, True),
    ("AG-FRT-50", "Fertiliser 50 kg", "agriculture", 11200, True),
    ("AG-MCH-2", "Machete and file set", "agriculture", 2400, True),
    ("FN-SOF-3", "Sofa, three seater", "furniture", 98000, True),
    ("FN-BED-Q", "Queen bed with mattress", "furniture", 125000, True),
    ("PH-FAK-1", "First-aid kit", "pharmacy", 3900, True),
    ("PH-VIT-90", "Multivitamins (90)", "pharmacy", 2800, False),
)
TRADE_CATEGORIES = {
    "hardware": ("hardware", "electrical"), "construction": ("hardware", "electrical"),
    "electrical": ("electrical",), "grocery": ("food",), "food": ("food",),
    "pharmacy": ("pharmacy", "beauty"), "beauty": ("beauty",), "auto": ("auto",),
    "wholesale": ("food", "hardware", "office"), "agriculture": ("agriculture", "hardware"),
    "furniture": ("furniture", "appliances"), "office": ("office", "electrical"),
}
# (name, channel, start "MM-DD", days, budget JMD, segment or None)
CAMPAIGNS = (
    ("Valentine's Day", "social", "02-01", 14, 450_000, None),
    ("Easter Specials", "radio", "03-20", 25, 900_000, None),
    ("Labour Day Hardware", "print", "05-10", 20, 650_000, None),
    ("Emancipendence Sale", "social", "07-20", 20, 1_200_000, None),
    ("Back to School", "tv", "08-01", 30, 2_500_000, None),
    ("Heroes Weekend", "email", "10-10", 10, 300_000, "Loyal"),
    ("Black Friday", "social", "11-20", 10, 1_800_000, None),
    ("Christmas Grand Market", "tv", "12-01", 24, 4_000_000, None),
    ("Win-back", "sms", "09-01", 45, 500_000, "At risk"),
)
SEGMENTS = (
    ("VIP", "Top spenders who bought recently"),
    ("Loyal", "Frequent buyers active in the last four months"),
    ("Regular", "Steady buyers with a few purchases"),
    ("Occasional", "Few purchases, still active"),
    ("New", "First purchase or sign-up in the last 90 days"),
    ("At risk", "Used to buy often; nothing for four months to a year"),
    ("Dormant", "No purchase in over a year"),
)
INTERACTION_TEMPLATES = {
    "positive": (
        ("Thanks for the quick delivery", "The {product} arrived in {town} on time. Very pleased, will order again."),
        ("Great service", "Rep {rep} sorted everything in one visit. Excellent service as always."),
        ("Happy with purchase", "Customer says the {product} works perfectly and recommends us to friends."),
        ("Compliment", "Loved this month's specials; prices were good and the staff friendly."),
    ),
    "neutral": (
        ("Price enquiry", "Asked for a quote on {product} for next month."),
        ("Stock check", "Wanted to know when {product} will be back in stock in {town}."),
        ("Account update", "Updated delivery address and contact number."),
        ("Invoice request", "Requested a copy of the last invoice for their records."),
    ),
    "negative": (
        ("Complaint: late delivery", "Delivery to {town} was three days late again. Customer is very unhappy."),
        ("Complaint: damaged goods", "The {product} arrived damaged. Wants a refund or replacement."),
        ("Billing dispute", "Charged twice on the last invoice. Customer threatening to take business elsewhere."),
        ("Poor service", "Nobody returned their calls for a week. Considering another supplier."),
        ("Competitor mention", "Says a competitor in {town} is cheaper for {product}."),
    ),
}
NOTE_TEXTS = (
    "Prefers delivery on Fridays before noon.",
    "Pays by bank transfer; send invoices by e-mail.",
    "Interested in the solar range; follow up in the new year.",
    "Owner travels often; speak to the store manager.",
    "Asked about credit terms for bulk orders.",
)
