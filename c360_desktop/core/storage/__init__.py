"""The local cache: schema, connection factory, migrations and writers."""
