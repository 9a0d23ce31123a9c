import data  # noqa: F401  # first: it imports Peewee without the PostgreSQL driver (see there)
