package org.diffrep.probe;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;

/**
 * Limited-memory BFGS on a flat float64 LibTorch tensor, with a backtracking (Armijo) line search.
 * Meant for smooth, strongly convex objectives (an L2-penalised logistic loss), where it converges
 * to the unique minimum; curvature pairs with s.y <= 0 are skipped, so it never builds a non-positive
 * Hessian approximation.
 */
public final class Lbfgs {

    /** The objective: returns f(x) and writes its gradient into {@code grad} (same shape as x). */
    public interface Objective {
        double evaluate(Tensor x, Tensor grad);
    }

    /**
     * @param maxIterations  iterations before giving up
     * @param gradTolerance  stop when max |grad| <= gradTolerance
     * @param history        curvature pairs kept
     */
    public record Settings(int maxIterations, double gradTolerance, int history) {
        public static Settings defaults() {
            return new Settings(1000, 1e-7, 10);
        }
    }

    /** The minimiser found, its value, the final max |grad|, and the iterations used. */
    public record Result(Tensor x, double value, double gradMax, int iterations, boolean converged) {
    }

    private Lbfgs() {
    }

    /** Minimises {@code f} from {@code start} (not modified). */
    public static Result minimize(Objective f, Tensor start, Settings settings) {
        Tensor x = start.clone();
        Tensor g = x.mul(new Scalar(0.0));
        double fx = f.evaluate(x, g);
        Deque<Pair> pairs = new ArrayDeque<>(); // newest first
        int iter = 0;
        double gmax = maxAbs(g);
        while (gmax > settings.gradTolerance() && iter < settings.maxIterations()) {
            iter++;
            try (PointerScope scope = new PointerScope()) {
                Tensor d = direction(g, pairs);
                double slope = d.dot(g).item_double();
                if (!(slope < 0)) {
                    // not a descent direction (numerical trouble): restart from steepest descent
                    clear(pairs);
                    d = g.neg();
                    slope = d.dot(g).item_double();
                }
                double step = pairs.isEmpty() ? Math.min(1.0, 1.0 / Math.sqrt(g.square().sum().item_double())) : 1.0;
                Tensor gNew = g.mul(new Scalar(0.0));
                Tensor xNew = null;
                double fNew = Double.NaN;
                for (int tries = 0; tries < 60; tries++) {
                    xNew = x.add(d, new Scalar(step));
                    fNew = f.evaluate(xNew, gNew);
                    if (fNew <= fx + 1e-4 * step * slope) {
                        break;
                    }
                    step *= 0.5;
                }
                if (!(fNew <= fx)) {
                    break; // the line search found no decrease: at the optimum up to rounding
                }
                Tensor s = xNew.sub(x);
                Tensor y = gNew.sub(g);
                double sy = s.dot(y).item_double();
                if (sy > 1e-12 * Math.sqrt(y.square().sum().item_double() * s.square().sum().item_double())) {
                    pairs.addFirst(new Pair(s.retainReference(), y.retainReference(), 1.0 / sy));
                    if (pairs.size() > settings.history()) {
                        release(pairs.removeLast());
                    }
                }
                x.copy_(xNew);
                g.copy_(gNew);
                fx = fNew;
                gmax = maxAbs(g);
            }
        }
        clear(pairs);
        return new Result(x, fx, gmax, iter, gmax <= settings.gradTolerance());
    }

    /** Two-loop recursion: -H g with H the L-BFGS inverse-Hessian approximation. */
    private static Tensor direction(Tensor g, Deque<Pair> pairs) {
        Tensor q = g.clone();
        int m = pairs.size();
        double[] alpha = new double[m];
        int i = 0;
        for (Pair p : pairs) {
            alpha[i] = p.rho() * p.s().dot(q).item_double();
            q.sub_(p.y(), new Scalar(alpha[i]));
            i++;
        }
        if (m > 0) {
            Pair newest = pairs.peekFirst();
            double gamma = 1.0 / (newest.rho() * newest.y().square().sum().item_double());
            q.mul_(new Scalar(gamma));
        }
        Iterator<Pair> oldestFirst = pairs.descendingIterator();
        i = m - 1;
        while (oldestFirst.hasNext()) {
            Pair p = oldestFirst.next();
            double beta = p.rho() * p.y().dot(q).item_double();
            q.add_(p.s(), new Scalar(alpha[i] - beta));
            i--;
        }
        return q.neg();
    }

    private static double maxAbs(Tensor t) {
        return t.abs().max().item_double();
    }

    private static void clear(Deque<Pair> pairs) {
        while (!pairs.isEmpty()) {
            release(pairs.removeFirst());
        }
    }

    private static void release(Pair pair) {
        pair.s().releaseReference();
        pair.y().releaseReference();
    }

    /** One curvature pair: step s, gradient change y, and 1 / (s.y). */
    private record Pair(Tensor s, Tensor y, double rho) {
    }
}
