package org.diffrep;

import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bad input from the user: a file that is missing, truncated or of the wrong format, a shape a
 * model cannot take, a setting out of range. The message names the file or setting, the field and
 * what was expected. The command line maps it to exit code 2.
 *
 * <p>A setting out of range names its configuration field, not a command-line option: a Java
 * caller never passed {@code --forward-rows}, it set {@code forwardRows}. {@link #field} makes
 * such an error; {@link #getMessage()} reads {@code "forwardRows must be >= 1, got 0"}, and the
 * command line prints the same sentence with the option the user typed in the field's place
 * ({@code "--forward-rows must be >= 1, got 0"}), using {@link #message(UnaryOperator)}.
 */
public class InvalidInputException extends RuntimeException {

    /** A reference to a field inside a template: {name}. */
    private static final Pattern REF = Pattern.compile("\\{([A-Za-z][A-Za-z0-9]*)}");

    /** The fields the template names, the one at fault first; empty for a plain message. */
    private final List<String> fields;
    /** The message with each of {@link #fields} written {name}; null for a plain message. */
    private final String template;

    public InvalidInputException(String message) {
        this(message, (Throwable) null);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
        this.fields = List.of();
        this.template = null;
    }

    private InvalidInputException(String template, List<String> fields, Throwable cause) {
        super(render(template, fields, UnaryOperator.identity()), cause);
        this.fields = fields;
        this.template = template;
    }

    /**
     * A configuration field with a bad value: the message is the field's name, then {@code detail}
     * (after a space, or directly when {@code detail} starts with a colon).
     *
     * <p>{@code field("batch", "must be >= 1, got 0")} reads {@code "batch must be >= 1, got 0"};
     * {@code field("layers", ": unknown layer 'x'")} reads {@code "layers: unknown layer 'x'"}.
     *
     * @param field  the configuration field's name as a Java caller sets it (camelCase), e.g. {@code forwardRows}
     * @param detail the value and what was expected; taken literally (braces in it are not references)
     */
    public static InvalidInputException field(String field, String detail) {
        return field(field, detail, null);
    }

    /** {@link #field(String, String)} with the exception that caused it. */
    public static InvalidInputException field(String field, String detail, Throwable cause) {
        return new InvalidInputException(ref(field) + (detail.startsWith(":") ? "" : " ") + escape(detail),
                List.of(checkName(field)), cause);
    }

    /**
     * A bad combination of configuration fields: {@code template} names each of {@code fields} as
     * {@code {name}}, the field at fault first, e.g.
     * {@code fields("{noiseDraws} > 1 needs {input} noisy", "noiseDraws", "input")}. Only the names
     * listed are references; text from the user (a path, a spec) goes in through {@link #literal},
     * so that it is printed as it is even when it holds such a reference.
     */
    public static InvalidInputException fields(String template, String... fields) {
        if (fields.length == 0) {
            throw new IllegalArgumentException("no fields named in '" + template + "'");
        }
        List<String> names = List.of(fields);
        names.forEach(InvalidInputException::checkName);
        if (!template.contains(ref(fields[0]))) {
            throw new IllegalArgumentException("the template '" + template + "' does not name " + fields[0]);
        }
        return new InvalidInputException(template, names, null);
    }

    /** The configuration field at fault (as a Java caller names it), or null when the message names no field. */
    public String field() {
        return fields.isEmpty() ? null : fields.get(0);
    }

    /** Every configuration field the message names, the one at fault first; empty for a plain message. */
    public List<String> fields() {
        return fields;
    }

    /**
     * The message with each field written as {@code name.apply(field)}: the command line passes a
     * function from field to option ({@code forwardRows -> --forward-rows}). For a plain message,
     * {@link #getMessage()}.
     */
    public String message(UnaryOperator<String> name) {
        return template == null ? getMessage() : render(template, fields, name);
    }

    private static String render(String template, List<String> fields, UnaryOperator<String> name) {
        Matcher m = REF.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String f = m.group(1);
            m.appendReplacement(out, Matcher.quoteReplacement(fields.contains(f) ? Objects.requireNonNull(name.apply(f)) : m.group()));
        }
        m.appendTail(out);
        return out.toString().replace(ESCAPED_BRACE, "{");
    }

    /** What an opening brace in a literal detail becomes in the template, so that it is never a reference. */
    private static final String ESCAPED_BRACE = "\u0000";

    private static String escape(String literal) {
        return literal.replace("{", ESCAPED_BRACE);
    }

    /** {@code text} (a path, a spec) for a {@link #fields} template: printed as it is, never a reference. */
    public static String literal(Object text) {
        return escape(String.valueOf(text));
    }

    private static String ref(String field) {
        return "{" + field + "}";
    }

    private static String checkName(String field) {
        if (field == null || !REF.matcher(ref(field)).matches()) {
            throw new IllegalArgumentException("not a field name: '" + field + "'");
        }
        return field;
    }
}
