package org.diffrep.data;

import org.diffrep.InvalidInputException;
import org.diffrep.io.Limits;

import java.util.List;

/**
 * What every dataset holds besides its samples: where it came from, the sample shape, the labels
 * and the class names, with the {@link Dataset} accessors over them and the checks every
 * {@link #batch} makes. Subclasses say how samples are read (in memory, mapped, decoded on demand).
 */
abstract class LabelledDataset implements Dataset {

    protected final String source;
    protected final int[] labels;
    protected final int[] shape;
    private final List<String> classNames;

    /** The arrays are not copied: subclasses hand over arrays of their own. */
    LabelledDataset(String source, int[] shape, int[] labels, List<String> classNames) {
        this.source = source;
        this.shape = shape.clone();
        this.labels = labels;
        this.classNames = List.copyOf(classNames);
    }

    @Override
    public final int size() {
        return labels.length;
    }

    @Override
    public final int[] imageShape() {
        return shape.clone();
    }

    @Override
    public final int numClasses() {
        return classNames.size();
    }

    @Override
    public final List<String> classNames() {
        return classNames;
    }

    @Override
    public final int label(int i) {
        return labels[i];
    }

    @Override
    public final int[] labels() {
        return labels.clone();
    }

    @Override
    public final String source() {
        return source;
    }

    /** Refuses a batch of {@code n} samples whose values do not fit one Java array. */
    protected final void checkBatch(int n) {
        int per = sampleSize();
        if ((long) n * per > Limits.MAX_ARRAY) {
            throw new InvalidInputException(source + ": a batch of " + n + " samples of " + per
                    + " values exceeds one array's " + Limits.MAX_ARRAY + " elements; use a smaller batch");
        }
    }

    /** The index as an int, or IndexOutOfBoundsException outside [0, N). */
    protected final int checkIndex(long idx) {
        if (idx < 0 || idx >= labels.length) {
            throw new IndexOutOfBoundsException("index " + idx + " outside the dataset's 0.." + (labels.length - 1));
        }
        return (int) idx;
    }
}
