"""dryneedling.web"""
