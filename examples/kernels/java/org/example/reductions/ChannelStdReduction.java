package org.example.reductions;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.extract.FeatureReduction;

import java.util.List;

/**
 * A user reduction in Java over LibTorch ops (docs/KERNELS.md): the spatial standard deviation of
 * each channel, [B, C, H, W] -> [B, C], computed where the maps are (CPU or GPU). Registered in
 * META-INF/services/org.diffrep.extract.FeatureReduction; select it with
 * {@code --reduce mid=channel-std}.
 */
public final class ChannelStdReduction implements FeatureReduction {

    @Override
    public String name() {
        return "channel-std";
    }

    @Override
    public long rowLength(List<Long> mapShape) {
        return mapShape.get(0);
    }

    @Override
    public Tensor reduce(Tensor maps) {
        Tensor flat = maps.reshape(maps.size(0), maps.size(1), -1);
        Tensor mean = flat.mean(new long[]{2}, true, null);
        Tensor centred = flat.sub(mean);
        return centred.mul(centred).mean(new long[]{2}, false, null).sqrt();
    }
}
