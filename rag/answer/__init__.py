"""Answer: a question -> a validated, cited Answer in the fact-check shape.

answerer.py runs the steps (retrieve, draft, check, revise, settle, assemble) with an
`Answerer` built once; context.py writes the numbered passages the model reads; citations.py
renumbers markers by first use; settle.py decides accepted, repaired or abstained (policy.py
holds its pieces); assemble.py and shape.py turn what held into the Answer and its sections;
leaks.py keeps the instructions out of what is shown; question.py cleans what a user typed.
"""
