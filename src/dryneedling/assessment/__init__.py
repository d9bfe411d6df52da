"""dryneedling.assessment"""
