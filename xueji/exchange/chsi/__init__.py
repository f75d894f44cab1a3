"""CHSI (学信网) exports: the national platform's column layouts, filled from Xueji's records,
written as xlsx or DBF, checked before export, masked by permission and audited."""
