package org.diffrep.probe;

import org.diffrep.InvalidInputException;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;

/**
 * Limited-memory BFGS with a backtracking (Armijo) line search. The parameter vector lives in a Java
 * double array (probe parameters are small: (C+1) K values), so the two-loop recursion costs no
 * LibTorch calls; only the objective touches tensors. Meant for smooth, strongly convex objectives
 * (an L2-penalised logistic loss), where it converges to the unique minimum; curvature pairs with
 * s.y <= 0 are skipped, so the Hessian approximation stays positive definite.
 */
public final class Lbfgs {

    /** The objective: returns f(x) and writes its gradient into {@code grad} (same length as x). */
    public interface Objective {
        double evaluate(double[] x, double[] grad);
    }

    /**
     * When the minimiser stops and how much curvature it keeps. Build with {@link #builder}: the
     * defaults are its field initialisers, also readable as {@link #DEFAULTS}.
     *
     * @param maxIterations  iterations before giving up (default 500)
     * @param gradTolerance  converged when max |grad| <= gradTolerance (default 1e-5)
     * @param valueTolerance converged when an iteration lowers f by less than valueTolerance * max(1, |f|)
     *                       (as scipy's L-BFGS-B ftol; 0 disables; default 1e-10)
     * @param history        curvature pairs kept (default 10)
     */
    public record Settings(int maxIterations, double gradTolerance, double valueTolerance, int history) {

        /** Every field at its default. */
        public static final Settings DEFAULTS = builder().build();

        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding these settings. */
        public Builder toBuilder() {
            return new Builder().maxIterations(maxIterations).gradTolerance(gradTolerance)
                    .valueTolerance(valueTolerance).history(history);
        }

        /** The fields with their defaults; every setter returns the builder. */
        public static final class Builder {
            private int maxIterations = 500;
            private double gradTolerance = 1e-5;
            private double valueTolerance = 1e-10;
            private int history = 10;

            public Builder maxIterations(int v) { maxIterations = v; return this; }
            public Builder gradTolerance(double v) { gradTolerance = v; return this; }
            public Builder valueTolerance(double v) { valueTolerance = v; return this; }
            public Builder history(int v) { history = v; return this; }

            public Settings build() {
                if (maxIterations < 0 || history < 1 || !(gradTolerance >= 0) || !(valueTolerance >= 0)) {
                    throw new InvalidInputException("L-BFGS settings out of range: maxIterations " + maxIterations
                            + " (>= 0), history " + history + " (>= 1), gradTolerance " + gradTolerance
                            + " and valueTolerance " + valueTolerance + " (>= 0)");
                }
                return new Settings(maxIterations, gradTolerance, valueTolerance, history);
            }
        }
    }

    /** The minimiser found, its value, the final max |grad|, the iterations used, and whether it converged. */
    public record Result(double[] x, double value, double gradMax, int iterations, boolean converged) {
    }

    private Lbfgs() {
    }

    /** Minimises {@code f} from {@code start} (not modified). */
    public static Result minimize(Objective f, double[] start, Settings settings) {
        int m = start.length;
        double[] x = start.clone();
        double[] g = new double[m];
        double fx = f.evaluate(x, g);
        Deque<Pair> pairs = new ArrayDeque<>(); // newest first
        int iter = 0;
        double gmax = maxAbs(g);
        boolean stalled = false;
        double[] xNew = new double[m];
        double[] gNew = new double[m];
        while (gmax > settings.gradTolerance() && !stalled && iter < settings.maxIterations()) {
            iter++;
            double[] d = direction(g, pairs);
            double slope = dot(d, g);
            if (!(slope < 0)) {
                // not a descent direction (numerical trouble): restart from steepest descent
                pairs.clear();
                for (int i = 0; i < m; i++) {
                    d[i] = -g[i];
                }
                slope = dot(d, g);
            }
            double step = pairs.isEmpty() ? Math.min(1.0, 1.0 / Math.sqrt(dot(g, g))) : 1.0;
            double fNew = Double.NaN;
            for (int tries = 0; tries < 60; tries++) {
                for (int i = 0; i < m; i++) {
                    xNew[i] = x[i] + step * d[i];
                }
                fNew = f.evaluate(xNew, gNew);
                if (fNew <= fx + 1e-4 * step * slope) {
                    break;
                }
                step *= 0.5;
            }
            if (!(fNew <= fx)) {
                break; // the line search found no decrease: at the optimum up to rounding
            }
            double[] s = new double[m];
            double[] y = new double[m];
            for (int i = 0; i < m; i++) {
                s[i] = xNew[i] - x[i];
                y[i] = gNew[i] - g[i];
            }
            double sy = dot(s, y);
            if (sy > 1e-12 * Math.sqrt(dot(y, y) * dot(s, s))) {
                pairs.addFirst(new Pair(s, y, 1.0 / sy));
                if (pairs.size() > settings.history()) {
                    pairs.removeLast();
                }
            }
            System.arraycopy(xNew, 0, x, 0, m);
            System.arraycopy(gNew, 0, g, 0, m);
            stalled = fx - fNew < settings.valueTolerance() * Math.max(1, Math.abs(fNew));
            fx = fNew;
            gmax = maxAbs(g);
        }
        return new Result(x, fx, gmax, iter, gmax <= settings.gradTolerance() || stalled);
    }

    /** Two-loop recursion: -H g with H the L-BFGS inverse-Hessian approximation. */
    private static double[] direction(double[] g, Deque<Pair> pairs) {
        double[] q = g.clone();
        double[] alpha = new double[pairs.size()];
        int i = 0;
        for (Pair p : pairs) {
            alpha[i] = p.rho() * dot(p.s(), q);
            axpy(-alpha[i], p.y(), q);
            i++;
        }
        if (!pairs.isEmpty()) {
            Pair newest = pairs.peekFirst();
            double gamma = 1.0 / (newest.rho() * dot(newest.y(), newest.y()));
            for (int j = 0; j < q.length; j++) {
                q[j] *= gamma;
            }
        }
        Iterator<Pair> oldestFirst = pairs.descendingIterator();
        i = pairs.size() - 1;
        while (oldestFirst.hasNext()) {
            Pair p = oldestFirst.next();
            double beta = p.rho() * dot(p.y(), q);
            axpy(alpha[i] - beta, p.s(), q);
            i--;
        }
        for (int j = 0; j < q.length; j++) {
            q[j] = -q[j];
        }
        return q;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += a * x[i];
        }
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    /** One curvature pair: step s, gradient change y, and 1 / (s.y). */
    private record Pair(double[] s, double[] y, double rho) {
    }
}
