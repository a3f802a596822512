from corun.cli import main

raise SystemExit(main())
