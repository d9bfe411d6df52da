"""dryneedling.evidence"""
