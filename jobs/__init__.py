"""The analysis worker: consumes "analyze tenant" messages and the nightly schedule."""
