package org.diffrep.probe;

import org.diffrep.InvalidInputException;

/** Which probe to fit: multinomial logistic regression, BatchNorm + linear (the research protocol), or a 2-layer MLP. */
public enum ProbeKind {
    LINEAR("linear"), BN_LINEAR("bn-linear"), MLP("mlp");

    private final String label;

    ProbeKind(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static ProbeKind parse(String s) {
        for (ProbeKind k : values()) {
            if (k.label.equals(s)) {
                return k;
            }
        }
        throw InvalidInputException.field("kind", ": expected linear, bn-linear or mlp, got '" + s + "'");
    }
}
