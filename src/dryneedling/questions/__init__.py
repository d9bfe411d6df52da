"""Readers' questions under the public topic pages: the question model and the local spam filter.

The moderation queue (clinic accounts, approve / reject in the clinic's web app) builds on these pure modules.
"""
