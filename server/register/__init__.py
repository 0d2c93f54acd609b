"""The case register (办件): SQL through SQLAlchemy 2, schema through Alembic.

The archive stays the evidence; the register indexes it: accounts, kiosk
devices and cases live here, and lists, filters and statistics are queries.
"""
