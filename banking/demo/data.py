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
]

CUSTOMER_LOGINS = [
    ("customer", "Priya", "Sharma", "priya.sharma@example.in"),
]
