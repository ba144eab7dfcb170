"""Pure renderers: results in, text out (terminal text, JSON, JSON Lines, ...). Nothing here
prints, reads a clock or touches the network; the CLI writes what these return.

Text from the network (event content, header values, error bodies) is untrusted: renderers
escape control characters so a server cannot drive the user's terminal.
"""
