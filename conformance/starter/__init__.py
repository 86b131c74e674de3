"""A starter kit for a new implementation: ``aethel-conformance init`` writes a minimal program
that speaks the subprocess protocol (framing, session, one or two capabilities end to end, a
vector runner) in Python or JavaScript, and ``aethel-conformance smoke`` checks any program in
seconds (hello, one request per declared capability, shutdown)."""
