"""dryneedling.knowledge"""
