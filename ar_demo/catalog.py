"""The fixed vocabulary of the demo data: names, places, procedures and payment types."""

from __future__ import annotations

from typing import NamedTuple


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
    "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily "
    "Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah "
    "Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Dorothy "
    "Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Emma Stephen Brenda Larry "
    "Pamela Justin Nicole Scott Anna Brandon Samantha Benjamin Katherine Samuel Christine "
    "Gregory Debra Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria Jack Olivia "
    "Dennis Heather Jerry Helen Tyler Catherine Aaron Diane José Zoë Chloé Renée"
)

LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed "
    "Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
    "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster O'Brien "
    "Núñez Schäfer"
)

STREETS = _words(
    "Oak Maple Cedar Pine Elm Washington Lake Hill Park Main Sunset Highland Church Walnut "
    "Willow Jefferson Lincoln River Spring Meadow"
)
STREET_KINDS = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")


class City(NamedTuple):
    name: str
    state: str
    zip_prefix: str
    area_codes: tuple[str, ...]


CITIES = (
    City("Austin", "TX", "787", ("512", "737")),
    City("Denver", "CO", "802", ("303", "720")),
    City("Portland", "OR", "972", ("503", "971")),
    City("Columbus", "OH", "432", ("614", "380")),
    City("Raleigh", "NC", "276", ("919", "984")),
    City("Phoenix", "AZ", "850", ("602", "480")),
    City("Nashville", "TN", "372", ("615", "629")),
    City("Boston", "MA", "021", ("617", "857")),
    City("Madison", "WI", "537", ("608",)),
    City("Sacramento", "CA", "958", ("916", "279")),
    City("Tampa", "FL", "336", ("813", "656")),
    City("Minneapolis", "MN", "554", ("612", "763")),
)
PRACTICE_KINDS = ("Family Dentistry", "Dental Care", "Smiles", "Dental Group", "Dental Arts")
PROVIDERS = ("DDS1", "DDS2", "HYG1", "HYG2")


class Procedure(NamedTuple):
    code: str
    description: str
    fee: int  # whole dollars, before the practice's own fee level
    coverage: float  # share an insurer usually pays
    tooth: bool  # recorded on a tooth
    surfaces: bool  # recorded on surfaces of that tooth


PROCEDURES = (
    Procedure("D0120", "Periodic oral evaluation", 60, 1.0, False, False),
    Procedure("D1110", "Prophylaxis - adult", 110, 1.0, False, False),
    Procedure("D1120", "Prophylaxis - child", 80, 1.0, False, False),
    Procedure("D4910", "Periodontal maintenance", 150, 0.8, False, False),
    Procedure("D0274", "Bitewings - four radiographic images", 75, 1.0, False, False),
    Procedure("D0150", "Comprehensive oral evaluation", 95, 1.0, False, False),
    Procedure(
        "D0210", "Intraoral - complete series of radiographic images", 150, 1.0, False, False
    ),
    Procedure("D0220", "Intraoral - periapical first radiographic image", 35, 1.0, True, False),
    Procedure("D1206", "Topical application of fluoride varnish", 45, 1.0, False, False),
    Procedure("D1351", "Sealant - per tooth", 55, 0.8, True, False),
    Procedure("D2140", "Amalgam - one surface, primary or permanent", 150, 0.8, True, True),
    Procedure("D2391", "Resin-based composite - one surface, posterior", 180, 0.8, True, True),
    Procedure("D2392", "Resin-based composite - two surfaces, posterior", 230, 0.8, True, True),
    Procedure("D2740", "Crown - porcelain/ceramic", 1200, 0.5, True, False),
    Procedure("D2950", "Core buildup, including any pins when required", 300, 0.5, True, False),
    Procedure("D3330", "Endodontic therapy, molar tooth", 1100, 0.5, True, False),
    Procedure(
        "D4341", "Periodontal scaling and root planing - four or more teeth", 250, 0.8, False, False
    ),
    Procedure("D7140", "Extraction, erupted tooth or exposed root", 200, 0.8, True, False),
    Procedure(
        "D7210", "Extraction, erupted tooth requiring removal of bone", 350, 0.8, True, False
    ),
    Procedure("D9110", "Palliative treatment of dental pain", 90, 0.8, False, False),
)
PROCEDURE_INDEX = {p.code: i for i, p in enumerate(PROCEDURES)}
# What a treatment visit does (indices into PROCEDURES from D0150 on), and how often.
TREATMENT_CODES = tuple(range(PROCEDURE_INDEX["D0150"], len(PROCEDURES)))
TREATMENT_WEIGHTS = (6, 4, 5, 4, 5, 10, 14, 8, 5, 3, 3, 4, 4, 2, 3)
SURFACES = ("O", "M", "D", "B", "L", "MO", "DO", "MOD")


class PaymentType(NamedTuple):
    """A payment type as the PMS lists it; the classes are Sikka's query filters
    (``is_adjustment`` is a credit adjustment). Refunds have no class in Sikka: a
    practice names its refund types in its settings."""

    code: str
    description: str
    is_insurance: bool = False
    is_adjustment: bool = False
    is_debit_adjustment: bool = False


PAYMENT_TYPES = (
    PaymentType("CASH", "Cash"),
    PaymentType("CHECK", "Personal check"),
    PaymentType("CC", "Credit card"),
    PaymentType("INS", "Insurance payment - EFT", is_insurance=True),
    PaymentType("INSCHK", "Insurance payment - check", is_insurance=True),
    PaymentType("DISC", "Courtesy discount", is_adjustment=True),
    PaymentType("WO", "Insurance write-off", is_adjustment=True),
    PaymentType("FIN", "Finance charge", is_debit_adjustment=True),
    PaymentType("REFUND", "Patient refund"),
)
PAYMENT_TYPE_INDEX = {t.code: i for i, t in enumerate(PAYMENT_TYPES)}
# The payment type whose payments are refunds: the demo's practices list it in their
# ``refund_payment_types`` setting.
REFUND_PAYMENT_TYPE = "REFUND"

# ``transaction_type`` as the PMS writes it: mostly the documented labels, sometimes a
# variant the default settings accept (they compare labels trimmed and without case).
PROCEDURE_LABELS = ("Procedure", "Proc", "procedure", " Procedure ", "PROCEDURE")
PAYMENT_LABELS = ("Payment", "Pay", "payment", "Payment ", "PAYMENT")
ADJUSTMENT_LABELS = ("Adjustment", "Adj", "adjustment", " Adjustment", "ADJUSTMENT")
