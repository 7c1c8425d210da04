/**
 * The web UI in headless Chromium (Debian's, driven by playwright-core) against a real coordinator and a real
 * `runsurge node` process started with the command the UI shows: register, sign out and in, add a node, submit an
 * automatic job and watch it run live, its plan, pay, download the result, the node's earnings, a rejected script's
 * findings against its lines, the guide, removing a node and revoking a token. Screenshots of every page go to
 * test-results/screenshots/.
 */
import { once } from 'node:events'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { benchmarkCacheFile } from '../../cli/src/commands/node.ts'
import { startCoordinator } from '../../coordinator/src/index.ts'
import { formatMoney } from '../../ui/src/lib/format.ts'
import { ROOT, kill, runsurge, tempDir, testLogger } from '../helpers/index.ts'
import type { Coordinator } from '../../coordinator/src/index.ts'
import type { RunsurgeProcess } from '../helpers/index.ts'
import type { Browser, BrowserContext, Page } from 'playwright-core'

const CHROMIUM = process.env.RUNSURGE_CHROMIUM ?? '/usr/bin/chromium'
const SHOTS = join(ROOT, 'test-results', 'screenshots')
const NAME = 'ada'
const PASSWORD = 'correct horse battery'

/** Sums and a CPU-bound loop of a couple of seconds, so the job is seen running before it completes. */
const JOB = [
  'def main(data):',
  '    values = [int(x) for x in data]',
  '    table = list(range(2_000_000))',
  '    spin = 0',
  '    for i in range(20_000_000):',
  '        spin = (spin + i * i) % 1_000_003',
  '    return {"n": len(values), "sum": sum(values), "squares": sum(v * v for v in values), "table": len(table), "spin": spin}',
  ''
].join('\n')
const NUMBERS = Array.from({ length: 1000 }, (_, i) => i * 7)

function expectedResult (): Record<string, number> {
  let spin = 0
  for (let i = 0; i < 20_000_000; i++) spin = (spin + i * i) % 1_000_003
  return { n: NUMBERS.length, sum: NUMBERS.reduce((a, b) => a + b, 0), squares: NUMBERS.reduce((a, b) => a + b * b, 0), table: 2_000_000, spin }
}

const DANGEROUS = 'import subprocess\n\n\ndef main(data):\n    return subprocess.run(["id"]).returncode\n'

let dir: Awaited<ReturnType<typeof tempDir>>
let coordinator: Coordinator
let browser: Browser
let context: BrowserContext
let page: Page
let base: string
let node: RunsurgeProcess | undefined
let second: RunsurgeProcess | undefined
let jobId = ''
const requests: string[] = []
const problems: string[] = []
let loads = 0

/** A link of the site's main navigation. */
const nav = (name: string): ReturnType<Page['getByRole']> => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true })
const shot = async (name: string): Promise<void> => { await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true }) }
const file = (name: string, text: string): { name: string, mimeType: string, buffer: Buffer } => ({ name, mimeType: 'text/plain', buffer: Buffer.from(text) })

/** The exit code of a node process, once it has exited. */
async function exitCode (child: RunsurgeProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  const [code] = await once(child, 'exit') as [number | null]
  return code
}

/**
 * Runs the command the page shows, as a contributor pastes it: `RUNSURGE_NODE_TOKEN=… npx runsurge node …`, with its
 * own data directory and the shared machine factor.
 */
function startShownCommand (command: string, data: string): RunsurgeProcess {
  const [assignment, ...words] = command.split(' ')
  const [variable, token] = (assignment ?? '').split('=') as [string, string]
  expect(variable).toBe('RUNSURGE_NODE_TOKEN')
  expect(words.slice(0, 3)).toEqual(['npx', 'runsurge', 'node'])
  const at = words.indexOf('--data')
  words.splice(at, 2, '--data', join(dir.path, data))
  return runsurge([...words.slice(2), '--memory', '1G', '--benchmark-file', benchmarkCacheFile()], { RUNSURGE_NODE_TOKEN: token })
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true })
  dir = await tempDir('runsurge-browser-')
  coordinator = await startCoordinator({ dataDir: join(dir.path, 'coordinator'), logger: testLogger(), authRateLimit: { max: 1_000 } })
  base = coordinator.info.http
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 }, acceptDownloads: true, locale: 'en-US' })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
  // Every wait below is for something the UI must show: fail in seconds, not in the default half minute.
  context.setDefaultTimeout(15_000)
  page = await context.newPage()
  page.on('request', request => requests.push(request.url()))
  page.on('load', () => { loads++ })
  page.on('pageerror', error => problems.push(`page error: ${error.message}`))
  page.on('console', message => {
    // Asking who is signed in answers 401 to a stranger; the browser logs every non-2xx resource.
    if (message.type() === 'error' && !/status of 40[19]/.test(message.text())) problems.push(`console: ${message.text()}`)
  })
})

afterAll(async () => {
  for (const child of [node, second]) if (child !== undefined) await kill(child, 'SIGTERM')
  await browser?.close()
  await coordinator?.close()
  await dir?.remove()
})

describe('the web UI in Chromium', () => {
  it('shows the landing page with live statistics, and works by keyboard on a small screen', async () => {
    await page.goto('/')
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Run plain Python on idle machines')
    await page.locator('.stat[aria-busy="false"]').nth(3).waitFor()
    expect(await page.locator('.stat__value').allTextContents()).toEqual(['0', '0', '0', '$0.00'])
    await page.getByRole('link', { name: 'Create an account' }).waitFor()
    await shot('landing')

    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content')

    await page.setViewportSize({ width: 390, height: 844 })
    const menu = page.getByRole('button', { name: 'Menu' })
    expect(await menu.getAttribute('aria-expanded')).toBe('false')
    expect(await page.getByRole('link', { name: 'Jobs' }).isVisible()).toBe(false)
    await menu.focus()
    await page.keyboard.press('Enter')
    expect(await menu.getAttribute('aria-expanded')).toBe('true')
    await page.getByRole('link', { name: 'Jobs' }).waitFor()
    await shot('landing-mobile')
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  it('registers, signs out and signs in again', async () => {
    await page.getByRole('link', { name: 'Create an account' }).first().click()
    await page.waitForURL('**/register')
    await page.getByLabel('Account name').fill(NAME)
    await page.getByLabel('Password').fill(PASSWORD)
    await shot('register')
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.waitForURL('**/jobs')
    await page.getByText(`Signed in as ${NAME}`).waitFor()
    await page.getByText('No jobs yet.').waitFor()

    await page.getByRole('button', { name: 'Sign out' }).click()
    await nav('Sign in').waitFor()
    await page.goto('/jobs')
    await page.getByRole('heading', { name: 'Sign in to see your jobs' }).waitFor()
    await page.getByRole('link', { name: 'Sign in' }).last().click()
    await page.getByLabel('Account name').fill(NAME)
    await page.getByLabel('Password').fill('not the password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').filter({ hasText: 'wrong name or password' }).waitFor()
    await page.getByLabel('Password').fill(PASSWORD)
    await shot('login')
    await page.getByRole('button', { name: 'Sign in' }).click()
    // Back where the sign-in was asked for.
    await page.waitForURL('**/jobs')
    await page.getByText(`Signed in as ${NAME}`).waitFor()
  })

  it('adds a node: shows the token and the command, which starts a real node that joins', async () => {
    await nav('Nodes').click()
    await page.getByText('No node yet').waitFor()
    await page.getByLabel('Label').fill('lab-1')
    await page.getByRole('button', { name: 'Create an enrollment token' }).click()
    const commandField = page.getByLabel('Run this on the machine')
    await commandField.waitFor()
    const command = await commandField.inputValue()
    const token = await page.getByLabel('Enrollment token', { exact: true }).inputValue()
    expect(command).toBe(`RUNSURGE_NODE_TOKEN=${token} npx runsurge node --coordinator ${coordinator.info.multiaddrs[0] ?? ''} --data .runsurge/node-lab-1`)
    await page.getByRole('button', { name: 'Copy command' }).click()
    await page.getByRole('status').filter({ hasText: 'Copied' }).waitFor()
    expect(await page.evaluate(async () => await navigator.clipboard.readText())).toBe(command)
    node = startShownCommand(command, 'node-lab-1')
    await node.waitForLine(/registered with the coordinator/, { signal: AbortSignal.timeout(60_000) })
    // The page refreshes every heartbeat: the node appears alive without a reload.
    await page.locator('tr[data-node][data-status="alive"]').waitFor({ timeout: 30_000 })
    expect(await page.locator('tr[data-node] [data-testid="node-tasks"]').textContent()).toBe('0')
    await shot('nodes')
  })

  it('submits an automatic job and watches it run live to completion, with its plan', async () => {
    await nav('Submit').click()
    await page.getByLabel('Python script', { exact: true }).setInputFiles(file('sums.py', JOB))
    await page.getByLabel('Input file', { exact: true }).setInputFiles(file('numbers.txt', NUMBERS.join('\n') + '\n'))
    await page.locator('.analysis-status[data-status="accepted"]').waitFor()
    await page.getByTestId('price-estimate').waitFor()
    expect(await page.getByTestId('memory-peak').textContent()).toMatch(/[KMG]iB/)
    expect(await page.locator('.source__line').count()).toBe(JOB.split('\n').length - 1)
    expect(await page.getByLabel('Name').inputValue()).toBe('sums')
    await shot('submit')

    const loadsBefore = loads
    await page.getByRole('button', { name: 'Submit job' }).click()
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/)
    jobId = page.url().split('/').pop() ?? ''
    const article = page.locator(`article.job[data-job="${jobId}"]`)
    await article.waitFor()
    // Seen while it runs, then completed through the event stream alone: no reload, no polling.
    expect(['queued', 'running']).toContain(await article.getAttribute('data-status'))
    await page.locator('article.job[data-status="running"] :is(.plan__node[data-status="running"], .plan__node[data-status="assigned"])').waitFor({ timeout: 30_000 })
    await shot('job-running')
    await page.locator('article.job[data-status="completed"]').waitFor({ timeout: 60_000 })
    expect(loads).toBe(loadsBefore)
    expect(requests.some(url => url === `${base}/api/jobs/${jobId}/events`)).toBe(true)
    expect(await page.locator('.live').textContent()).toBe('final')

    const plan = page.locator('svg.plan__svg')
    await plan.waitFor()
    expect(await plan.locator('.plan__node[data-kind="input"]').count()).toBe(1)
    expect(await plan.locator('.plan__node[data-kind="result"]').count()).toBe(1)
    expect(await plan.locator('.plan__node[data-status="completed"]').count()).toBeGreaterThanOrEqual(1)
    expect(await plan.locator('.plan__edge').count()).toBeGreaterThanOrEqual(2)
    expect(await page.locator('.timeline__bar--completed').count()).toBeGreaterThanOrEqual(1)
    expect(await page.locator('table.memory tbody tr').count()).toBeGreaterThanOrEqual(1)
    expect(await page.getByTestId('charge').textContent()).toMatch(/^\$/)
    await page.getByRole('button', { name: /^Pay \$/ }).waitFor()
    await shot('job')
  })

  it('lists the job with its charge, RAM and time, downloads its result, and pays', async () => {
    await page.getByRole('link', { name: 'all jobs' }).click()
    const row = page.locator(`tr[data-job="${jobId}"]`)
    await row.waitFor()
    expect(await row.getAttribute('data-status')).toBe('completed')
    const cells = await row.locator('td').allTextContents()
    expect(cells[2]).toMatch(/\d( ms| s|\.\d s)$/)
    expect(cells[3]).toMatch(/[KMG]iB$/)
    expect(cells[4]).toMatch(/^\$\d/)
    expect(cells[5]).toBe('pending')

    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: /Download result/ }).click()])
    expect(download.suggestedFilename()).toBe('sums-result.json')
    expect(JSON.parse(await readFile(await download.path(), 'utf8'))).toEqual(expectedResult())
    await shot('jobs')

    await row.getByRole('button', { name: /^Pay \$/ }).click()
    await page.getByRole('status').filter({ hasText: /^Paid \$/ }).waitFor()
    await row.locator('[data-status="paid"]').waitFor()
    expect(await row.getByRole('button', { name: /^Pay/ }).count()).toBe(0)
    await shot('jobs-paid')
  })

  it('shows what the node earned for the job, now paid', async () => {
    const earnings = await (await page.request.get(`${base}/api/earnings`)).json() as { earnings: Array<{ amount: number, status: string }>, paid: number, pending: number }
    expect(earnings.earnings.length).toBeGreaterThanOrEqual(1)
    expect(earnings.earnings.every(e => e.status === 'paid')).toBe(true)
    expect(earnings.paid).toBeGreaterThan(0)
    await nav('Nodes').click()
    const row = page.locator('tr[data-node]')
    await row.locator('[data-testid="node-tasks"]').filter({ hasText: String(earnings.earnings.length) }).waitFor()
    expect(await row.getByTestId('node-earnings').textContent()).toBe(formatMoney(earnings.paid))
    const paidStat = page.locator('.stat').filter({ hasText: /^Paid/ })
    await paidStat.locator('.stat__value').filter({ hasText: formatMoney(earnings.paid) }).waitFor()
    await shot('nodes-earnings')
  })

  it('submits a grouped example: three inputs, an aggregation script, a plan of four tasks', async () => {
    await nav('Submit').click()
    await page.getByRole('radio', { name: /Grouped/ }).check()
    const examples = join(ROOT, 'examples', 'grouped')
    await page.getByLabel('Processing script (process per file)').setInputFiles(join(examples, 'sales_total.py'))
    await page.getByLabel('Input files (one task each)').setInputFiles([1, 2, 3].map(q => join(examples, `sales-q${q}.csv`)))
    await page.getByLabel('Aggregation script', { exact: true }).setInputFiles(join(examples, 'sales_aggregate.py'))
    await page.getByLabel('Memory per task').fill('64M')
    await page.locator('.analysis-status[data-status="accepted"]').waitFor()
    expect(await page.locator('figcaption').filter({ hasText: 'sales_aggregate.py' }).count()).toBe(1)
    await page.getByRole('button', { name: 'Submit job' }).click()
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/)
    await page.locator('article.job[data-status="completed"]').waitFor({ timeout: 60_000 })
    const plan = page.locator('svg.plan__svg')
    expect(await plan.locator('.plan__node[data-kind="input"]').count()).toBe(3)
    expect(await plan.locator('.plan__node[data-kind="task"][data-status="completed"]').count()).toBe(3)
    expect(await plan.locator('.plan__node[data-kind="aggregate"][data-status="completed"]').count()).toBe(1)
    expect(await plan.locator('.plan__edge').count()).toBe(3 + 3 + 1)
    const id = page.url().split('/').pop() ?? ''
    const result = await (await page.request.get(`${base}/api/jobs/${id}/result`)).json() as { quarters: string[], orders: number }
    expect(result).toMatchObject({ quarters: ['Q1', 'Q2', 'Q3'], orders: 107 + 84 + 109 })
    await shot('job-grouped')
  })

  it('shows a rejected script\'s findings against its lines, and will not submit it', async () => {
    await nav('Submit').click()
    await page.getByLabel('Python script', { exact: true }).setInputFiles(file('shell.py', DANGEROUS))
    await page.locator('.analysis-status[data-status="rejected"]').waitFor()
    const first = page.locator('.source__line[data-line="1"]')
    expect(await first.getAttribute('class')).toMatch(/source__line--(error|critical)/)
    expect(await first.getByRole('note').first().textContent()).toMatch(/subprocess/)
    expect(await page.locator('.source__line[data-line="5"] [role="note"]').count()).toBeGreaterThanOrEqual(1)
    expect(await page.locator('.source__line[data-line="2"] [role="note"]').count()).toBe(0)
    expect(await page.getByTestId('findings-summary').textContent()).toMatch(/blocking finding/)
    expect(await page.getByRole('button', { name: 'Submit job' }).isDisabled()).toBe(true)
    await page.getByRole('alert').filter({ hasText: 'fix the blocking findings' }).waitFor()
    await shot('submit-rejected')
  })

  it('has the user guide, payment model and worked example included', async () => {
    await nav('Docs').click()
    const contents = page.getByRole('navigation', { name: 'Contents' })
    expect(await contents.getByRole('listitem').count()).toBeGreaterThanOrEqual(8)
    await shot('guide')
    await contents.getByRole('link', { name: 'Payment model' }).click()
    await page.waitForURL('**/guide#payment')
    await page.getByRole('heading', { name: 'A worked example' }).waitFor()
    expect(await page.locator('#payment').textContent()).toContain(formatMoney(22_260))
    expect(await page.getByRole('heading', { name: 'Payment model' }).isVisible()).toBe(true)
  })

  it('removes a node and revokes a token, each after asking; their node processes stop and say why', async () => {
    await nav('Nodes').click()
    await page.getByLabel('Label').fill('lab-2')
    await page.getByRole('button', { name: 'Create an enrollment token' }).click()
    await page.getByRole('region', { name: 'New enrollment token' }).getByText('lab-2', { exact: true }).waitFor()
    second = startShownCommand(await page.getByLabel('Run this on the machine').inputValue(), 'node-lab-2')
    const joined = JSON.parse(await second.waitForLine(/registered with the coordinator/, { signal: AbortSignal.timeout(60_000) })) as { nodeId: string }
    const short = joined.nodeId.replace(/^node-/, '').slice(0, 8)
    const row = page.locator(`tr[data-node="${joined.nodeId}"]`)
    await page.locator(`tr[data-node="${joined.nodeId}"][data-status="alive"]`).waitFor({ timeout: 30_000 })
    const tokens = page.getByRole('region', { name: 'Your enrollment tokens' })
    await tokens.locator('tr', { hasText: 'lab-2' }).getByText(short).waitFor()
    await shot('nodes-tokens')

    await row.getByRole('button', { name: `Remove node ${short}` }).click()
    await row.getByRole('group', { name: 'Disconnect it and refuse it from now on?' }).waitFor()
    await shot('nodes-remove-confirm')
    await row.getByRole('button', { name: 'Yes, remove' }).click()
    await page.getByRole('status').filter({ hasText: `Removed node ${short}` }).waitFor()
    await page.locator(`tr[data-node="${joined.nodeId}"][data-status="removed"]`).waitFor()
    expect(await exitCode(second)).toBe(3)
    expect(second.output()).toMatch(/runsurge node: this node was removed by its owner; enroll it again with a new token/)
    await row.getByRole('button', { name: `Allow node ${short} again` }).waitFor()
    await shot('nodes-removed')

    // The first node's token: revoking it takes that node away too.
    const first = tokens.locator('tr', { hasText: 'lab-1' })
    await first.getByRole('button', { name: 'Revoke token lab-1' }).click()
    await first.getByRole('group', { name: 'Revoke it and remove its node?' }).waitFor()
    await first.getByRole('button', { name: 'Yes, revoke' }).click()
    await page.getByRole('status').filter({ hasText: 'Revoked token “lab-1”: its node was removed.' }).waitFor()
    await first.waitFor({ state: 'detached' })
    await page.locator('tr[data-node][data-status="alive"]').waitFor({ state: 'detached' })
    expect(await exitCode(node!)).toBe(3)
    expect(node!.output()).toMatch(/revoked the enrollment token this node joined with/)
    expect(await page.locator('.stat').filter({ hasText: /^Nodes alive/ }).locator('.stat__value').textContent()).toBe('0 of 0')
    await shot('nodes-revoked')
  })

  it('loaded nothing from elsewhere and logged no errors', () => {
    const foreign = requests.filter(url => !url.startsWith(base) && !url.startsWith('data:') && !url.startsWith('blob:'))
    expect(foreign).toEqual([])
    expect(problems).toEqual([])
  })
})
