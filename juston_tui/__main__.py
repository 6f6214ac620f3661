from juston_tui.cli import main

raise SystemExit(main())
