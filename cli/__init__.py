"""ljfit's command line (click). Commands import the library lazily, so ``ljfit --help`` is fast."""
