"""The losscc formula language (loss.lark), shipped inside the wheel as losscc.grammar."""
