"""Usage accounting, budgets and the operator's dashboard of the chat backend."""
