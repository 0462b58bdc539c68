"""partcopy's benchmark harness: each scenario pits contenders against one emulator.

Run ``python -m benchmarks.run SCENARIO [--quick]``; see README.md, "Benchmarks".
"""
