from tokenpath.cli.app import main

main()
