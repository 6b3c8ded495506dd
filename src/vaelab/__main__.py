from vaelab.cli.main import main

main()
