"""Outcome measures and the clinic dashboard (issue 11, parts 2 and 3): pure functions, no database, no web.

- :mod:`.scoring`: a total or item answers -> a checked score, by the knowledge base's entry rule;
- :mod:`.progress`: baseline, latest, change, the MCID that applies and whether the change reached it;
- :mod:`.stats`: exact (Clopper-Pearson) intervals, quartiles, funnel limits (Spiegelhalter 2005);
- :mod:`.benchmarks`: the published figures the dashboard shows beside a clinic's (records/benchmarks.yaml);
- :mod:`.dashboard`: the dashboard assembled from aggregate counts and patient answers.
"""
