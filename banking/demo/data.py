"""The demo bank: who and what `manage.py seed_demo` creates."""

DEMO_PASSWORD = "cbs-demo-2026"

BRANCHES = [
    {
        "code": "000001", "name": "Fort, Mumbai", "ifsc": "CBSB0000001",
        "address": "14 Dalal Street, Fort", "city": "Mumbai", "state": "Maharashtra", "pincode": "400001",
    },
    {
        "code": "000002", "name": "Koramangala, Bengaluru", "ifsc": "CBSB0000002",
        "address": "80 Feet Road, 4th Block, Koramangala", "city": "Bengaluru", "state": "Karnataka",
        "pincode": "560034",
    },
]

# username, role, first name, last name, employee id, branch code, approval limit (rupees)
STAFF = [
    ("teller", "teller", "Asha", "Kulkarni", "E1001", "000001", 0),
    ("teller2", "teller", "Ravi", "Menon", "E1002", "000001", 0),
    ("teller.blr", "teller", "Divya", "Rao", "E2001", "000002", 0),
    ("supervisor", "supervisor", "Sunil", "Deshmukh", "E1101", "000001", 10_00_000),
    ("supervisor.blr", "supervisor", "Kavya", "Iyer", "E2101", "000002", 10_00_000),
    ("manager", "branch_manager", "Meera", "Joshi", "E1201", "000001", 1_00_00_000),
    ("ops", "operations", "Farhan", "Qureshi", "E9001", None, 0),
    ("ops2", "operations", "Neha", "Bhatt", "E9002", None, 0),
    ("compliance", "compliance", "Arvind", "Pillai", "E9101", None, 0),
    ("auditor", "auditor", "Lakshmi", "Narayan", "E9201", None, 0),
    ("admin", "administrator", "Vikram", "Singh", "E9901", None, 0),
    ("admin2", "administrator", "Anjali", "Verma", "E9902", None, 0),
]

CUSTOMER_LOGINS = [
    ("customer", "Priya", "Sharma", "priya.sharma@example.in"),
]

# Verified customers, onboarded at the counter by banking/demo/customers.py. PANs and
# Aadhaar numbers are made up (the Aadhaar ones carry a valid Verhoeff check digit).
CUSTOMERS = [
    {
        "pan": "BSKPS4821K", "aadhaar": "234123412346", "login": "customer",
        "teller": "teller", "checker": "supervisor",
        "personal": {"first_name": "Priya", "last_name": "Sharma", "date_of_birth": "1991-06-14",
                     "mobile": "9820011223", "email": "priya.sharma@example.in", "occupation": "Architect",
                     "income_band": "10l_25l"},
        "address": {"line1": "B-702, Sea Breeze Apartments", "line2": "Carter Road, Bandra West", "city": "Mumbai",
                    "state": "Maharashtra", "pincode": "400050"},
    },
    {
        "pan": "AFGPM1234Q", "aadhaar": "345634563457", "teller": "teller", "checker": "supervisor",
        "colour": (120, 60, 20),
        "personal": {"first_name": "Rahul", "middle_name": "Vijay", "last_name": "Mehta",
                     "date_of_birth": "1979-11-02", "mobile": "9867012345", "email": "rahul.mehta@example.in",
                     "occupation": "Chartered accountant", "income_band": "25l_1cr"},
        "address": {"line1": "12 Sunshine Co-operative Housing Society", "line2": "Tilak Nagar, Chembur",
                    "city": "Mumbai", "state": "Maharashtra", "pincode": "400089"},
    },
    {
        "pan": "CQRPD5678L", "aadhaar": "456745674566", "teller": "teller", "checker": "supervisor",
        "colour": (30, 110, 60),
        "personal": {"first_name": "Anita", "last_name": "Desai", "date_of_birth": "1956-03-30",
                     "mobile": "9930055667", "occupation": "Retired teacher", "income_band": "upto_5l"},
        "address": {"line1": "3 Laxmi Niwas, Ranade Road", "line2": "Dadar West", "city": "Mumbai",
                    "state": "Maharashtra", "pincode": "400028"},
    },
    {
        "pan": "AAJFS9012M", "teller": "teller", "checker": "supervisor",
        "personal": {"customer_type": "proprietorship", "legal_name": "Sharma Traders",
                     "date_of_birth": "2012-08-01", "mobile": "9821098210", "email": "accounts@sharmatraders.example",
                     "occupation": "Wholesale textiles", "income_band": "25l_1cr"},
        "address": {"line1": "Shop 14, Mangaldas Market", "line2": "Kalbadevi", "city": "Mumbai",
                    "state": "Maharashtra", "pincode": "400002"},
    },
]
