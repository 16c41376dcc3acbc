from seqlab.cli.main import main

main()
