package org.diffrep.extract;

import org.diffrep.InvalidInputException;

/**
 * Partition {@code index} of {@code count} of a run's selected images: of M selected images, the
 * ranks {@code [floor(index*M/count), floor((index+1)*M/count))}. Each partition is extracted into
 * its own partial store; {@link StoreMerge} joins the complete parts into the store one process
 * would write. Validated by {@link ExtractConfig.Builder#build}.
 *
 * @param index which partition, 0 <= index < count
 * @param count how many partitions, >= 1
 */
public record Partition(int index, int count) {

    /** Parses {@code I/N} (the command line's {@code --partition}); errors name the field partition. */
    public static Partition parse(String text) {
        String[] p = text == null ? new String[0] : text.trim().split("/", -1);
        if (p.length == 2) {
            try {
                return new Partition(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()));
            } catch (NumberFormatException e) {
                // falls through to the message below
            }
        }
        throw InvalidInputException.field("partition", ": expected I/N (partition I of N, 0 <= I < N), got "
                + InvalidInputException.literal(text));
    }

    /** Rank of the partition's first image among {@code selected} images. */
    public long first(long selected) {
        return Math.floorDiv((long) index * selected, count);
    }

    /** Rank one past the partition's last image among {@code selected} images. */
    public long end(long selected) {
        return Math.floorDiv((long) (index + 1) * selected, count);
    }

    @Override
    public String toString() {
        return index + "/" + count;
    }
}
