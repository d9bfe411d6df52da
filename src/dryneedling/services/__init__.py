"""Use cases shared by the CLI and the web app: plain functions over a :class:`~dryneedling.catalog.Catalog`.

Each use case lives here once; the shells only parse their input (arguments, HTTP) and present the result.
Transactions and audit entries for the records' use cases will live here too. No web or CLI imports.
"""
