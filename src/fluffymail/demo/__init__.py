"""The quickstart demos: the whole product on a sample mailbox (`product`), and a queue tour."""
