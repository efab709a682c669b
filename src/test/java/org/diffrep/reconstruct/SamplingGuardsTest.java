package org.diffrep.reconstruct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import org.diffrep.InvalidInputException;
import org.diffrep.model.Denoiser;

/**
 * The sampler refuses a number of samples that cannot fit before it allocates them, and a denoised
 * estimate or guidance that is not finite is an error naming the model, never a sample.
 */
class SamplingGuardsTest {

    /** A denoiser that shrinks toward zero, and returns NaN from step {@code nanFrom} on (counting calls). */
    private static final class Stub implements Denoiser {
        private final int nanFrom;
        private int calls;

        Stub(int nanFrom) {
            this.nanFrom = nanFrom;
        }

        @Override
        public String source() {
            return "stub.safetensors";
        }

        @Override
        public List<String> taps() {
            return List.of("out");
        }

        @Override
        public long[] inputShape() {
            return new long[]{1, 4, 4};
        }

        @Override
        public Output forward(Tensor x, Tensor sigma, Set<String> taps, boolean wantDenoised) {
            calls++;
            Tensor d = x.mul(new Scalar(0.5));
            if (calls >= nanFrom) {
                d = d.mul(new Scalar(Double.NaN));
            }
            return new Output(d, Map.of());
        }
    }

    private static final SamplerConfig CONFIG = new SamplerConfig(0.1, 0.5, 1.0, 0.01, 50, false, 0);

    @Test
    void samplesBeyondTheMemoryLimitAreRefusedBeforeAllocating() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new StochasticSampler(new Stub(Integer.MAX_VALUE), CONFIG).sample(1_000_000_000));
        assertTrue(e.getMessage().startsWith("samples 1000000000: "), e.getMessage());
        assertTrue(e.getMessage().contains("[1, 4, 4]"), e.getMessage());
    }

    @Test
    void nanDenoisedEstimateIsAnErrorNamingTheModelAndStep() {
        try (PointerScope s = new PointerScope()) {
            StochasticSampler.Samples ok = new StochasticSampler(new Stub(Integer.MAX_VALUE), CONFIG).sample(2);
            assertEquals(2, ok.images().length);
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> new StochasticSampler(new Stub(3), CONFIG).sample(2));
            assertTrue(e.getMessage().startsWith("stub.safetensors: the denoised estimate of sample 0 is NaN or infinite "
                    + "at step 3"), e.getMessage());
        }
    }

    @Test
    void nanGuidanceIsAnError() {
        try (PointerScope s = new PointerScope()) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> new StochasticSampler(new Stub(Integer.MAX_VALUE), CONFIG).sample(2,
                            (y, sigma) -> y.mul(new Scalar(Double.POSITIVE_INFINITY))));
            assertTrue(e.getMessage().contains("the guidance toward the target is NaN or infinite"), e.getMessage());
        }
    }

    @Test
    void absurdSamplerSettingsAreRefused() {
        assertThrows(InvalidInputException.class, () -> new SamplerConfig(0.1, 0.5, 1e300, 0.01, 10, false, 0));
        assertThrows(InvalidInputException.class,
                () -> new SamplerConfig(0.1, 0.5, Double.POSITIVE_INFINITY, 0.01, 10, false, 0));
        assertThrows(InvalidInputException.class, () -> new SamplerConfig(Double.NaN, 0.5, 1, 0.01, 10, false, 0));
    }
}
