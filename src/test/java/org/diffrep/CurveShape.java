package org.diffrep;

/** Shapes of measured curves in tests: where a curve peaks, and whether it rises to that peak and falls after it. */
public final class CurveShape {

    private CurveShape() {
    }

    /** Index of the first largest value. */
    public static int argmax(double[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[b]) {
                b = i;
            }
        }
        return b;
    }

    /** Whether v rises (not strictly) up to its largest value and falls (not strictly) after it. */
    public static boolean unimodal(double[] v) {
        int p = argmax(v);
        for (int i = 1; i < v.length; i++) {
            if (i <= p ? v[i] < v[i - 1] : v[i] > v[i - 1]) {
                return false;
            }
        }
        return true;
    }
}
