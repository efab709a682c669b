package org.diffrep.extract;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Spatial pooling on a grid, {@code mean:GHxGW}: the map [C, H, W] averaged over GH x GW cells (LibTorch's adaptive
 * average pooling: cell i covers rows floor(i*H/GH) .. ceil((i+1)*H/GH)), stored channel-major as [C*GH*GW] (channel
 * c, cell row i, cell column j at c*GH*GW + i*GW + j). {@code mean:1x1} is the spatial mean. Keeps where a channel
 * fires, which a mean over the whole map loses.
 */
public record GridMeanReduction(int rows, int cols) implements FeatureReduction {

    private static final Pattern NAME = Pattern.compile("mean:([0-9]{1,3})x([0-9]{1,3})");

    /** The grid reduction a name asks for ({@code mean:2x2}), or null when the name is not one. */
    public static GridMeanReduction parse(String name) {
        Matcher m = NAME.matcher(name == null ? "" : name.trim());
        if (!m.matches()) {
            return null;
        }
        int r = Integer.parseInt(m.group(1)), c = Integer.parseInt(m.group(2));
        if (r < 1 || c < 1) {
            throw new IllegalArgumentException("a pooling grid needs at least one cell per side, got " + name);
        }
        return new GridMeanReduction(r, c);
    }

    @Override
    public String name() {
        return String.format(Locale.ROOT, "mean:%dx%d", rows, cols);
    }

    @Override
    public long rowLength(List<Long> mapShape) {
        if (mapShape.size() != 3) {
            throw new IllegalArgumentException("a pooling grid needs maps [C, H, W], this tap gives " + mapShape);
        }
        if (mapShape.get(1) < rows || mapShape.get(2) < cols) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " grid needs maps of at least that size, this"
                    + " tap's are " + mapShape.get(1) + "x" + mapShape.get(2));
        }
        return mapShape.get(0) * rows * cols;
    }

    @Override
    public Tensor reduce(Tensor maps) {
        return torch.adaptive_avg_pool2d(maps, rows, cols).reshape(maps.size(0), -1);
    }
}
