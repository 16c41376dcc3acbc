from seqlab.cli import main

main()
