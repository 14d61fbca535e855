from relkit.launch import main

main()
