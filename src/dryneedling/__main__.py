from dryneedling.cli import main

main()
