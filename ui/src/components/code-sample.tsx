import { CopyButton } from './copy-button.tsx'

/** A file of code to read and copy, under its name. */
export function CodeSample (props: { code: string, name: string }) {
  return (
    <figure class='code'>
      <figcaption><code>{props.name}</code> <CopyButton text={props.code} label={`Copy ${props.name}`} /></figcaption>
      <pre tabindex='0'><code>{props.code}</code></pre>
    </figure>
  )
}
