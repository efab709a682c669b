package org.diffrep.probe;

import org.diffrep.Choice;
import org.diffrep.InvalidInputException;

/** Which probe to fit: multinomial logistic regression, BatchNorm + linear (the research protocol), or a 2-layer MLP. */
public enum ProbeKind implements Choice {
    LINEAR("linear"), BN_LINEAR("bn-linear"), MLP("mlp");

    private final String id;

    ProbeKind(String id) {
        this.id = id;
    }

    @Override
    public String id() {
        return id;
    }

    /** The kind spelt {@code s}; "kind: expected one of [linear, bn-linear, mlp], got 'x'" otherwise. */
    public static ProbeKind parse(String s) {
        try {
            return Choice.parse(ProbeKind.class, s);
        } catch (InvalidInputException e) {
            throw InvalidInputException.field("kind", ": " + e.getMessage());
        }
    }
}
