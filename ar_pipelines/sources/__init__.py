"""Sikka-shaped sources: the SQL schema, a demo data generator, and readers (SQL, REST)."""
