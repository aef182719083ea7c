"""The fuzz tests' tools: spoiled requests, the processes they go to, and what came back."""
