from fleetcare.cli import main

main()
