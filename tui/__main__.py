from tui.app import main

main()
