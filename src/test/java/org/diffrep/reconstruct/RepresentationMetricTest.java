package org.diffrep.reconstruct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;

/** The whitened representation metric, estimated from real MNIST digits. */
class RepresentationMetricTest {

    @Test
    void precisionInvertsTheShrunkCovarianceOfRealDigits() throws Exception {
        NetworkDenoiser net = RepresentationGuidanceTest.tinyUNet();
        net.train(false);
        int m = 120;
        try (PointerScope s = new PointerScope(); NoGradGuard off = new NoGradGuard()) {
            Tensor images = Tensors.fromFloats(StochasticSamplerTest.digits(m), m, 1, 28, 28);
            double shrink = 0.1;
            RepresentationMetric metric = RepresentationMetric.estimate(net, "mid", images, 0.1, 1.0, 3, shrink);

            // at sigma 1 (the last level): P (cov + shrink * meanVar * I) = meanVar * I
            float[] ones = new float[m];
            java.util.Arrays.fill(ones, 1f);
            Tensor r = Representation.of(net, "mid", images, Tensors.fromFloats(ones)).to(torch.ScalarType.Double);
            Tensor c = r.sub(r.mean(new long[]{0}, true, null));
            Tensor cov = c.t().matmul(c).div(new Scalar((double) (m - 1)));
            double meanVar = cov.diagonal().mean().item_double();
            long ch = cov.size(0);
            Tensor ridge = torch.eye(ch, Tensors.options(torch.ScalarType.Double)).mul(new Scalar(shrink * meanVar));
            Tensor p = metric.precisionFor(new float[]{0.9f}).select(0, 0).to(torch.ScalarType.Double);
            Tensor prod = p.matmul(cov.add(ridge)).div(new Scalar(meanVar));
            Tensor eye = torch.eye(ch, Tensors.options(torch.ScalarType.Double));
            assertTrue(prod.sub(eye).abs().max().item_double() < 1e-3, "P (cov + ridge) / meanVar = I");

            // the nearest level in log sigma: 0.1, 0.316, 1
            Tensor atLow = metric.precisionFor(new float[]{0.12f});
            Tensor atMid = metric.precisionFor(new float[]{0.3f});
            assertTrue(atLow.sub(atMid).abs().max().item_double() > 0, "levels differ");

            // distances are d^T P d per row
            Tensor d = r.slice(0, new org.bytedeco.pytorch.LongOptional(0), new org.bytedeco.pytorch.LongOptional(2), 1)
                    .sub(r.slice(0, new org.bytedeco.pytorch.LongOptional(2), new org.bytedeco.pytorch.LongOptional(4), 1))
                    .to(torch.ScalarType.Float);
            float[] dist = Tensors.toFloats(metric.squaredDistances(d, Tensors.fromFloats(new float[]{1f, 1f})));
            for (int b = 0; b < 2; b++) {
                Tensor row = d.select(0, b).to(torch.ScalarType.Double);
                double expect = row.dot(p.matmul(row)).item_double();
                assertEquals(expect, dist[b], 1e-4 * Math.max(1, Math.abs(expect)));
            }
        }
    }

    @Test
    void tooFewImagesAreRefused() throws Exception {
        NetworkDenoiser net = RepresentationGuidanceTest.tinyUNet();
        try (PointerScope s = new PointerScope()) {
            Tensor images = Tensors.fromFloats(StochasticSamplerTest.digits(4), 4, 1, 28, 28);
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> RepresentationMetric.estimate(net, "mid", images, 0.1, 1.0, 2, 0.1));
            assertTrue(e.getMessage().contains("more images"), e.getMessage());
        }
    }
}
