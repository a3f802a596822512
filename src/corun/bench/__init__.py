"""``corun bench`` and ``corun demo``: the same workloads under plain Linux and under corun, in one
invocation, runs alternated, with medians, min-max, corun/plain ratios, a table, JSON and a plot.

Layout: :mod:`.scenarios` (what to run, scaled to the core count), :mod:`.runner` (running with
timeouts, alternation), :mod:`.stats`, :mod:`.model` (results and their JSON form),
:mod:`.toolchain` (compiling C workloads), :mod:`.report` (table, JSON file, plots), :mod:`.cli`.
"""
