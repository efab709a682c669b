package org.diffrep.report;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table for stdout: a header row, a rule, then rows; the first column left-aligned,
 * the others right-aligned (they are usually numbers, formatted by the caller).
 */
public final class TextTable {

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    public TextTable(String... header) {
        if (header.length == 0) {
            throw new IllegalArgumentException("a table needs at least one column");
        }
        this.header = List.of(header);
    }

    /** Adds a row; cells are written with {@link String#valueOf(Object)}. */
    public TextTable row(Object... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, the table " + header.size() + " columns");
        }
        List<String> r = new ArrayList<>(cells.length);
        for (Object c : cells) {
            r.add(String.valueOf(c));
        }
        rows.add(r);
        return this;
    }

    public int rowCount() {
        return rows.size();
    }

    /** The table as text, lines ending in '\n'. */
    public String render() {
        int[] width = new int[header.size()];
        for (int j = 0; j < width.length; j++) {
            width[j] = header.get(j).length();
            for (List<String> r : rows) {
                width[j] = Math.max(width[j], r.get(j).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        line(sb, header, width);
        int total = 0;
        for (int w : width) {
            total += w;
        }
        sb.append("-".repeat(total + 2 * (width.length - 1))).append('\n');
        for (List<String> r : rows) {
            line(sb, r, width);
        }
        return sb.toString();
    }

    public void print(PrintStream out) {
        out.print(render());
        out.flush();
    }

    /** Formats a number with {@code digits} decimals; NaN as "-". */
    public static String num(double v, int digits) {
        return Double.isNaN(v) ? "-" : String.format(java.util.Locale.ROOT, "%." + digits + "f", v);
    }

    private static void line(StringBuilder sb, List<String> cells, int[] width) {
        for (int j = 0; j < cells.size(); j++) {
            if (j > 0) {
                sb.append("  ");
            }
            String c = cells.get(j);
            String pad = " ".repeat(width[j] - c.length());
            sb.append(j == 0 ? c + pad : pad + c);
        }
        // no trailing blanks
        int end = sb.length();
        while (end > 0 && sb.charAt(end - 1) == ' ') {
            end--;
        }
        sb.setLength(end);
        sb.append('\n');
    }
}
